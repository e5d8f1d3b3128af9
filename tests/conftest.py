from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.ruleset import Ruleset, load_ruleset


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset()


@pytest.fixture(scope="session")
def analyzer(ruleset: Ruleset) -> Analyzer:
    return Analyzer(ruleset)
