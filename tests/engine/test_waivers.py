"""Waivers in the engine: handed in as data by fingerprint, a waived finding leaves the open
findings (score, verdict, gate) and is listed as accepted risk with its justification; file-level
and repository-level findings alike."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import StopshipConfig
from app.engine.model import Waiver
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.scoring import NOT_READY
from app.render.markdown import full_audit, stakeholder_report

FILES = {
    "app/admin.py": 'def drop(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n',
    "app/main.py": "import structlog\nlog = structlog.get_logger()\n",
}


def report_with(
    ruleset: Ruleset, analyzer: Analyzer, waivers: dict[str, Waiver] | None = None
) -> Report:
    results = {path: analyzer.analyze(path, text.encode()) for path, text in FILES.items()}
    audit = AuditInput(
        repo="octo/shop", paths=sorted(FILES), results=results, waivers=waivers or {}
    )
    return build_report(ruleset, StopshipConfig(), audit)


def test_a_waived_stop_ship_is_accepted_risk_and_no_longer_blocks(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    before = report_with(ruleset, analyzer)
    [stop] = before.stop_ship
    assert before.verdict == NOT_READY
    waiver = Waiver(stop.fingerprint, "false positive", "octocat", "2030-01-31")
    after = report_with(ruleset, analyzer, {stop.fingerprint: waiver})
    assert after.stop_ship == [] and after.verdict != NOT_READY
    assert after.score > before.score
    [waived] = [f for f in after.suppressed if f.fingerprint == stop.fingerprint]
    assert waived.suppressed_by == "false positive (waived by @octocat, until 2030-01-31)"
    assert "Accepted risk (1)" in full_audit(after, ruleset)
    assert (
        f"`{stop.short_id}` SEC002 `app/admin.py:2` — justification: false positive"
        in stakeholder_report(after, ruleset)
    )


def test_a_repository_level_finding_can_be_waived(ruleset: Ruleset, analyzer: Analyzer) -> None:
    before = report_with(ruleset, analyzer)
    [ci] = [f for f in before.findings if f.path is None and f.rule == "DEP011"]
    after = report_with(ruleset, analyzer, {ci.fingerprint: Waiver(ci.fingerprint, "later", "a")})
    assert ci.fingerprint not in {f.fingerprint for f in after.findings}
    assert ci.fingerprint in {f.fingerprint for f in after.suppressed}


def test_a_waiver_for_another_fingerprint_changes_nothing(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    before = report_with(ruleset, analyzer)
    after = report_with(ruleset, analyzer, {"0" * 40: Waiver("0" * 40, "stale", "a")})
    assert (after.score, after.verdict, len(after.findings)) == (
        before.score,
        before.verdict,
        len(before.findings),
    )
    assert after.suppressed == []
