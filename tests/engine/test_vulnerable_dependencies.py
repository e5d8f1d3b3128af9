"""Known-vulnerable dependencies from outside the tree (the App's Dependabot alerts) as findings:
stop-ship by strictness, the fix version in the fix, disable / waivers honoured, and the score,
grade, verdict and gates of the report they are merged into."""

from __future__ import annotations

import pytest

from app.engine.audit import AuditInput, build_report
from app.engine.config import Launch, RulesConfig, StopshipConfig
from app.engine.model import Waiver
from app.engine.ruleset import Ruleset
from app.engine.scoring import NOT_READY, score_of
from app.engine.vulnerable_dependencies import VulnerableDependency, findings_of, merged

DJANGO = VulnerableDependency(
    "requirements.txt", "django", "pip", "critical", ("GHSA-rf4j-j272-fj86",), "2.0.2"
)
LODASH = VulnerableDependency("web/package-lock.json", "lodash", "npm", "high", (), None)


def config(stage: str = "beta", **rules: object) -> StopshipConfig:
    return StopshipConfig(launch=Launch(stage=stage), rules=RulesConfig(**rules))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "stop_ship"),
    [("internal", False), ("beta", False), ("public", True), ("paid", True)],
)
def test_a_critical_dependency_is_stop_ship_at_public_and_above(
    ruleset: Ruleset, stage: str, stop_ship: bool
) -> None:
    [finding] = findings_of([DJANGO], ruleset, config(stage))
    assert (finding.rule, finding.severity, finding.stop_ship) == ("SEC029", "critical", stop_ship)
    assert (finding.path, finding.line, finding.points) == ("requirements.txt", None, 15)
    assert "django (pip): GHSA-rf4j-j272-fj86" in finding.message
    assert "to 2.0.2 or later" in finding.fix


def test_a_high_dependency_without_a_fix_says_so(ruleset: Ruleset) -> None:
    [finding] = findings_of([LODASH], ruleset, config())
    assert (finding.rule, finding.name, finding.points) == (
        "SEC028",
        "vulnerable-dependency",
        8,
    )
    assert "No fixed version of `lodash`" in finding.fix


def test_other_severities_and_disabled_rules_give_nothing(ruleset: Ruleset) -> None:
    medium = VulnerableDependency("go.sum", "x/net", "go", "medium")
    assert findings_of([medium], ruleset, config()) == []
    assert findings_of([DJANGO], ruleset, config(disable=("SEC029",))) == []


def test_merged_findings_count_in_the_score_and_a_waiver_takes_them_out(
    ruleset: Ruleset,
) -> None:
    cfg = config("public")
    base = build_report(ruleset, cfg, AuditInput(repo="octo/shop", paths=[], results={}))
    extra = findings_of([DJANGO, LODASH], ruleset, cfg)
    after = merged(base, extra, ruleset, cfg)
    assert after.score == score_of(base.findings + extra) < base.score
    assert after.verdict == NOT_READY and len(after.stop_ship) == 2
    assert not next(g for g in after.gates if g.name == "No open stop-ship findings").passed
    waived = {f.fingerprint: Waiver(f.fingerprint, "not reachable", "octocat") for f in extra}
    accepted = merged(base, extra, ruleset, cfg, waived)
    assert accepted.score == base.score and accepted.stop_ship == []
    assert [f.rule for f in accepted.suppressed] == ["SEC029", "SEC028"]


def test_the_same_alert_twice_has_two_fingerprints(ruleset: Ruleset) -> None:
    first, second = findings_of([DJANGO, DJANGO], ruleset, config())
    assert first.fingerprint != second.fingerprint
