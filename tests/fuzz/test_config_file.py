"""A bounded hypothesis run on `.github/stopship.yml`: documents built from the real keys with
values of any type, this repository's own file with its text cut or a character changed, and
arbitrary bytes. Each is either a configuration the engine can use (its globs match paths,
branches and tags without raising) or a `ConfigError`, and nothing else."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.config import ConfigError, StopshipConfig, check_rule_ids, parse_config
from app.engine.paths import matches_any
from app.engine.release import tag_matches
from app.engine.ruleset import load_ruleset

OWN = (Path(__file__).resolve().parents[2] / ".github" / "stopship.yml").read_text()
KNOWN = {rule.id for rule in load_ruleset().rules}
RUN = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
    | st.text(max_size=20) | st.sampled_from(["main", "release/*", "[", "!*-*", "SEC001", "high"])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.sampled_from(["stage", "disable"]), inner,
                          max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip
keys = st.sampled_from(sorted(StopshipConfig.model_fields)) | st.text(max_size=12)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["keys", "own-mutated", "bytes"]))
    if kind == "keys":
        document: Any = draw(st.dictionaries(keys, values, max_size=6))
        return yaml.safe_dump(document, allow_unicode=True).encode()
    if kind == "own-mutated":
        text = OWN
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            return text[:at].encode()
        return (text[:at] + draw(st.characters()) + text[at + 1 :]).encode("utf-8", "replace")
    return draw(st.binary(max_size=300))


def use(config: StopshipConfig) -> None:
    """What the engine and the jobs do with a parsed configuration."""
    for path in ("app/orders.py", "payments/stripe.py", "rules/secrets.yml"):
        matches_any(path, config.ignore_paths)
        matches_any(path, config.payment_paths)
    any(fnmatchcase("release/1.2", glob) for glob in config.release_branches)
    tag_matches("v1.2.3", config.release_tags)


@RUN
@given(data=documents())
def test_a_config_file_is_usable_or_a_config_error(data: bytes) -> None:
    try:
        config = parse_config(data)
        check_rule_ids(config, KNOWN)
    except ConfigError as exc:
        assert str(exc).startswith(".github/stopship.yml: ")
        return
    use(config)
