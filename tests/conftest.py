from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.engine.analyze import Analyzer
from app.engine.ruleset import Ruleset, load_ruleset


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset()


@pytest.fixture(scope="session")
def analyzer(ruleset: Ruleset) -> Analyzer:
    return Analyzer(ruleset)


@pytest.fixture(autouse=True, scope="session")
def _cache_outside_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI's default cache is the user's (~/.cache/stopship): tests keep theirs apart."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield
