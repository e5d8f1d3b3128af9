"""`stopship report --output-dir DIR`: the full audit, the issue register and the release-gate
checklist a team keeps in its repository, checked on a small sample service."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.engine.ruleset import load_ruleset
from tests.render.sample import write_sample

runner = CliRunner()
RULES = load_ruleset()


def deliverables(tmp_path: Path) -> tuple[Path, str]:
    repo = write_sample(tmp_path)
    out = tmp_path / "docs" / "readiness"  # created when missing
    result = runner.invoke(
        cli, ["report", str(repo), "--output-dir", str(out), "--no-cache", "--jobs", "1"]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_it_writes_the_three_files_and_names_them(tmp_path: Path) -> None:
    out, printed = deliverables(tmp_path)
    names = {
        "production-readiness-audit.md",
        "production-readiness-issues.json",
        "release-gate-checklist.md",
    }
    assert {p.name for p in out.iterdir()} == names
    assert all(str(out / name) in printed for name in names)


def test_the_audit_explains_every_finding(tmp_path: Path) -> None:
    out, _ = deliverables(tmp_path)
    audit = (out / "production-readiness-audit.md").read_text()
    assert "## Production readiness — service" in audit
    assert "### Release gate" in audit and "### Stop-ship (1)" in audit
    stop = audit.split("### Stop-ship (1)", 1)[1]
    assert "**SEC002 sql-string-formatting**" in stop and "`api/main.py:7`" in stop
    for label in ("Why", "Impact", "Fix", "Effort"):
        assert f"  - {label}: " in stop
    # low findings too, explained, unlike the check-run summary
    assert "### Low priority" in audit
    assert audit.count("  - Impact: ") == audit.count("  - Why: ") >= 5


def test_the_issue_register_lists_each_finding_with_evidence_fix_effort_and_blocker(
    tmp_path: Path,
) -> None:
    out, _ = deliverables(tmp_path)
    register = json.loads((out / "production-readiness-issues.json").read_text())
    assert register["repo"] == "service" and register["verdict"] == "NOT READY"
    issues = register["issues"]
    keys = {"id", "severity", "category", "impact", "evidence", "fix", "effort", "blocker"}
    assert all(keys <= set(i) for i in issues)
    sql = issues[0]  # blockers first
    rule = RULES.by_id["SEC002"]
    assert sql["rule"] == "SEC002" and sql["blocker"] is True
    assert sql["evidence"] == "api/main.py:7" and sql["severity"] == "critical"
    assert sql["category"] == "security" and sql["effort"] == rule.effort
    assert sql["impact"] == " ".join(rule.impact.split()) and sql["fix"] == rule.fix.strip()
    timeout = next(i for i in issues if i["rule"] == "ERR002")
    assert timeout["evidence"] == "api/client.py:5" and timeout["blocker"] is False
    assert timeout["quick_win"] is True
    whole_repo = [i for i in issues if i["path"] is None]
    assert whole_repo and all(i["evidence"] == "repository" for i in whole_repo)
    assert [i["blocker"] for i in issues] == sorted((i["blocker"] for i in issues), reverse=True)


def test_the_checklist_gives_each_gate_the_blockers_and_what_to_confirm_by_hand(
    tmp_path: Path,
) -> None:
    out, _ = deliverables(tmp_path)
    checklist = (out / "release-gate-checklist.md").read_text()
    assert checklist.startswith("# Release gate checklist — service — ")
    assert "- [ ] No open stop-ship findings — 1 open" in checklist
    assert "- [ ] CI with tests present" in checklist
    blockers = checklist.split("## Blockers (1)", 1)[1].split("##", 1)[0]
    assert "`api/main.py:7`" in blockers and "Fix: Pass values as bound parameters" in blockers
    # every attestation is a question to answer; the beta stage (the default) requires none
    by_hand = checklist.split("## Confirmed by hand before the release", 1)[1]
    assert "- [ ] Are backups taken, and was a restore from them tested?\n" in by_hand
    assert "- [ ] Was the service load-tested at twice the expected peak?\n" in by_hand
    assert "(required)" not in checklist


def test_an_output_dir_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    repo = write_sample(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = runner.invoke(
        cli, ["report", str(repo), "--output-dir", str(blocked / "x"), "--no-cache", "--jobs", "1"]
    )
    assert result.exit_code == 2 and "--output-dir" in result.stderr
