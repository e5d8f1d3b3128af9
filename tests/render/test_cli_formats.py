"""What `stopship check` prints in each of its report shapes: every finding's what / where /
severity / fix (with `--explain` also why, impact and effort), the JSON's additions, and the
comment commands' bodies as `--format summary` and `--format report`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.engine.ruleset import load_ruleset
from app.engine.scoring import grade_meaning
from tests.render.sample import write_sample

runner = CliRunner()
RULES = load_ruleset()


def check(path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["check", str(path), *args, "--no-cache", "--jobs", "1"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_text_shows_each_findings_fix_and_explain_adds_why_impact_and_effort(
    tmp_path: Path,
) -> None:
    repo = write_sample(tmp_path)
    code, compact = check(repo, "--format", "text")
    assert code == 1
    timeout = RULES.by_id["ERR002"]
    grade = compact.split(" — Grade ", 1)[1][0]
    assert f"Grade {grade}: {grade_meaning(grade)}" in compact
    assert "ERR002 api/client.py:5" in compact
    assert f"Fix: {timeout.fix.strip().splitlines()[0][:40]}" in compact
    assert "Why:" not in compact and "Impact:" not in compact
    _, explained = check(repo, "--format", "text", "--explain")
    flat = " ".join(explained.split())
    assert f"Why: {' '.join(timeout.why.split())[:60]}" in flat
    assert f"Impact: {' '.join(timeout.impact.split())[:60]}" in flat
    assert f"Effort: about {timeout.effort} minutes" in flat


def test_markdown_lists_the_fix_under_each_finding_and_explain_adds_the_rest(
    tmp_path: Path,
) -> None:
    repo = write_sample(tmp_path)
    _, compact = check(repo, "--format", "markdown")
    line = next(x for x in compact.splitlines() if "**CTR002 base-image-not-pinned**" in x)
    after = compact.split(line, 1)[1].splitlines()[1]
    assert after.startswith("  - Fix: Pin a version tag")
    assert "  - Impact:" not in compact.split("### High priority", 1)[1]
    _, explained = check(repo, "--format", "markdown", "--explain")
    medium = explained.split("### Medium priority", 1)[1]
    assert "  - Why: " in medium and "  - Impact: " in medium
    assert "  - Effort: about 3 minutes" in medium


def test_json_findings_carry_why_impact_and_effort_and_quick_wins_their_minutes(
    tmp_path: Path,
) -> None:
    repo = write_sample(tmp_path)
    _, out = check(repo, "--format", "json")
    report = json.loads(out)
    assert report["grade_meaning"]
    by_rule = {f["rule"]: f for f in report["findings"]}
    timeout = by_rule["ERR002"]
    rule = RULES.by_id["ERR002"]
    assert timeout["why"] == rule.why.strip() and timeout["impact"] == rule.impact.strip()
    assert timeout["effort"] == rule.effort == 2 and timeout["quick_win"] is True
    # the contract's keys are all still there
    assert {"id", "rule", "name", "category", "severity", "stop_ship", "path", "line"} <= set(
        timeout
    )
    assert report["quick_wins"], "the sample has fixes under 5 minutes"
    for win in report["quick_wins"]:
        assert win["effort"] == RULES.by_id[win["rule"]].effort * win["count"]
        assert RULES.by_id[win["rule"]].effort < 5


def test_summary_is_the_quick_score_pointing_to_the_full_audit(tmp_path: Path) -> None:
    repo = write_sample(tmp_path)
    code, out = check(repo, "--format", "summary")
    assert code == 1
    assert "**Score " in out and "**Verdict:** NOT READY" in out
    top = [x for x in out.splitlines() if x.startswith("- `")]
    assert len(top) == 3 and "SEC002" in top[0]
    assert out.count("  - Fix: ") == 3
    assert out.rstrip().endswith("Run `stopship check --format markdown` for the full audit.")
    assert "/production check" not in out


def test_report_is_the_stakeholder_report(tmp_path: Path) -> None:
    repo = write_sample(tmp_path)
    _, out = check(repo, "--format", "report")
    assert out.splitlines()[1].startswith(f"# Production Readiness Report — {repo.name} — ")
    for heading in ("## Executive summary", "## Findings by category", "## Action plan"):
        assert heading in out
    assert "- **A** (90–100): Production-ready. Ship it." in out


def test_summary_and_report_are_the_comment_commands_bodies(tmp_path: Path) -> None:
    """One implementation: what `/production score` and `/production report` post."""
    from app.checkout.audit_local import audit_checkout
    from app.engine.gate import GateContext, decide
    from app.render.markdown import CLI_POINTER, COMMENT_POINTER, quick_score, stakeholder_report

    repo = write_sample(tmp_path)
    report, ruleset = audit_checkout(repo, use_cache=False, jobs=1)
    report.gate_reason = decide(report, GateContext("local")).reason
    _, summary = check(repo, "--format", "summary")
    assert summary == quick_score(report, CLI_POINTER)
    assert summary.replace(CLI_POINTER, COMMENT_POINTER) == quick_score(report)
    _, stakeholder = check(repo, "--format", "report")
    assert stakeholder == stakeholder_report(report, ruleset)
