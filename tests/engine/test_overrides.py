"""Command-line overrides of the config: rule selection by id or prefix, and launch context."""

from __future__ import annotations

import pytest

from app.engine.config import ConfigError, parse_config
from app.engine.overrides import Overrides, apply_overrides, rule_selectors

KNOWN = {"SEC001", "SEC002", "SEC014", "OBS005", "ERR002"}
CONFIG = parse_config(b"launch: {stage: internal}\nrules: {disable: [ERR002]}\n")


@pytest.mark.parametrize(
    ("overrides", "disabled"),
    [
        (Overrides(), {"ERR002"}),
        (Overrides(select=("SEC",)), {"OBS005", "ERR002"}),
        (Overrides(select=("SEC", "ERR002")), {"OBS005", "ERR002"}),  # the file's disable stays
        (Overrides(select=("SEC",), ignore=("SEC014",)), {"OBS005", "ERR002", "SEC014"}),
        (Overrides(ignore=("OBS005",)), {"ERR002", "OBS005"}),
    ],
)
def test_selection(overrides: Overrides, disabled: set[str]) -> None:
    assert set(apply_overrides(CONFIG, overrides, KNOWN).rules.disable) == disabled


def test_selectors_are_split_on_commas_and_upper_cased() -> None:
    assert rule_selectors(["sec001, obs", "ERR002"]) == ("SEC001", "OBS", "ERR002")


def test_unknown_selectors_are_named_with_their_option() -> None:
    with pytest.raises(ConfigError, match=r"unknown rule id: NOPE \(--ignore\)"):
        apply_overrides(CONFIG, Overrides(select=("SEC",), ignore=("NOPE",)), KNOWN)


def test_launch_replaces_only_what_is_given() -> None:
    config = apply_overrides(CONFIG, Overrides(stage="public", payments=True), KNOWN)
    assert (config.launch.stage, config.launch.user_data, config.launch.payments) == (
        "public",
        False,
        True,
    )
    assert config.strictness.level == "High" and config.minimum_score == 80
