"""The generic test: every rule's bad examples produce it, its good examples do not."""

from __future__ import annotations

import pytest

from app.engine.memory import audit_files
from app.engine.ruleset import Example, load_ruleset

RULESET = load_ruleset()
CASES = [
    pytest.param(rule.id, kind, i, example, id=f"{rule.id}-{rule.name}-{kind}{i}")
    for rule in RULESET.rules
    for kind in ("bad", "good")
    for i, example in enumerate(getattr(rule.examples, kind))
]


@pytest.mark.parametrize(("rule_id", "kind", "index", "example"), CASES)
def test_rule_example(rule_id: str, kind: str, index: int, example: Example, analyzer) -> None:
    # rules fed from outside (known vulnerabilities) get the example's advisories as their source
    report = audit_files(
        example.files, RULESET, analyzer=analyzer, advisories=example.known_vulnerabilities()
    )
    fired = [f for f in report.findings if f.rule == rule_id]
    if kind == "bad":
        assert fired, f"{rule_id} bad example {index} produced no finding"
    else:
        assert not fired, f"{rule_id} good example {index} produced: " + "; ".join(
            f"{f.path}:{f.line} {f.message}" for f in fired
        )


def test_every_rule_has_examples_of_both_kinds() -> None:
    for rule in RULESET.rules:
        assert rule.examples.bad and rule.examples.good, rule.id


def test_every_rule_says_why_what_it_costs_and_how_long_the_fix_takes() -> None:
    for rule in RULESET.rules:
        assert rule.why.strip() and rule.impact.strip() and rule.fix.strip(), rule.id
        # minutes for one place, from a one-line change to half a day of design work
        assert 1 <= rule.effort <= 480, rule.id
    quick = {r.id for r in RULESET.rules if r.effort < 5}
    assert {"ERR002", "CTR006", "DEP006"} <= quick and "OBS001" not in quick
