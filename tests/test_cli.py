"""`stopship check` end to end: exit codes, every output format, config and rule-file errors,
--changed-since, suppressions, and `stopship rules`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from app.checkout.git import root_prefix
from app.cli import cli
from app.engine.ruleset import RuleError, load_ruleset
from tests.gitrepo import git

CORPUS = Path(__file__).parent / "corpus"
BAD = CORPUS / "fastapi-bad"
GOOD = CORPUS / "fastapi-good"
SARIF_SCHEMA = Path(__file__).parents[1] / ".cache" / "sarif" / "sarif-schema-2.1.0.json"
runner = CliRunner()


def check(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["check", *args, "--no-cache", "--jobs", "1"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_planted_sample_is_not_ready_and_fails_the_gate() -> None:
    code, out, err = check(str(BAD))
    assert code == 1
    assert "NOT READY" in out
    assert "STOP-SHIP" in out
    # the gate policy's reason (app/engine/gate.py), as the Action and the App word it
    stops = out.count("STOP-SHIP")
    reason = f"fails: {stops} stop-ship finding{'s' if stops != 1 else ''} open"
    assert f"Gate: {reason}" in out and f"stopship: gate {reason}" in err


def test_the_well_built_sample_passes_with_grade_b_or_better() -> None:
    code, out, _ = check(str(GOOD), "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["grade"] in {"A", "B"}
    assert not [f for f in report["findings"] if f["stop_ship"]]


def test_json_has_the_keys_of_the_contract() -> None:
    _, out, _ = check(str(BAD), "--format", "json")
    report = json.loads(out)
    assert {"score", "grade", "verdict", "stack", "categories", "findings", "quick_wins"} <= set(
        report
    )
    assert [c["id"] for c in report["categories"]] == [
        "security",
        "error-handling",
        "observability",
        "deployment",
        "database",
        "container",
    ]
    assert all(set(c) >= {"id", "name", "weight", "score"} for c in report["categories"])
    keys = {
        "id",
        "rule",
        "name",
        "category",
        "severity",
        "stop_ship",
        "path",
        "line",
        "message",
        "fix",
    }
    assert all(keys <= set(f) for f in report["findings"])
    repo_level = [f for f in report["findings"] if f["path"] is None]
    assert repo_level and all(f["line"] is None for f in repo_level)
    assert report["stack"]["frameworks"] == ["Alembic", "FastAPI", "SQLAlchemy"]
    assert "PostgreSQL" in report["stack"]["databases"]
    assert all(w["points"] >= 1 for w in report["quick_wins"])


def test_sarif_is_valid_against_the_official_schema() -> None:
    assert SARIF_SCHEMA.is_file(), "run scripts/fetch_sarif_schema.sh (.ci/run does) first"
    _, out, _ = check(str(BAD), "--format", "sarif")
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    assert results and all(r["partialFingerprints"] for r in results)
    rule_ids = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids


def test_github_format_emits_workflow_commands() -> None:
    _, out, _ = check(str(BAD), "--format", "github")
    lines = out.splitlines()
    # from the repository's root (the sample lies in this repository's tests/corpus)
    wanted = f"::error file={root_prefix(BAD)}api/main.py,line=16,title=SEC002"
    assert any(line.startswith(wanted) for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines if line)


def test_markdown_has_headline_table_stop_ships_quick_wins_and_praise() -> None:
    _, bad, _ = check(str(BAD), "--format", "markdown")
    assert "Score" in bad and "NOT READY" in bad
    assert "| Security fundamentals |" in bad.replace("  ", " ") or "Security fundamentals" in bad
    assert "Stop-ship" in bad or "stop-ship" in bad
    assert "Quick wins" in bad and "+" in bad
    _, good, _ = check(str(GOOD), "--format", "markdown")
    assert "done well" in good.lower()


def test_output_writes_the_report_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    code, out, _ = check(str(BAD), "--format", "sarif", "--output", str(target))
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((str(BAD), "--fail-on", "never"), 0),
        ((str(BAD), "--fail-on", "stop-ship"), 1),
        ((str(GOOD), "--fail-on", "high"), 0),
        ((str(BAD), "--format", "nonsense"), 2),
        (("/nonexistent/path",), 2),
    ],
)
def test_exit_codes(args: tuple[str, ...], expected: int) -> None:
    code, _, _ = check(*args)
    assert code == expected


def test_a_score_below_min_score_fails_the_gate(tmp_path: Path) -> None:
    service = tmp_path / "service"
    shutil.copytree(GOOD, service)
    # one low finding (print for logging): no stop-ship, but the score drops below 100
    (service / "api" / "report.py").write_text('def report(total):\n    print("total", total)\n')
    assert check(str(service))[0] == 0
    assert check(str(service), "--min-score", "100")[0] == 1


def _service(tmp_path: Path, config: str) -> Path:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "stopship.yml").write_text(config)
    (tmp_path / "app.py").write_text("import os\n")
    return tmp_path


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("launch: {stage: publik}\n", ".github/stopship.yml: launch.stage:"),
        ("unknown_key: 1\n", ".github/stopship.yml: unknown_key:"),
        ("rules: {disable: [NOPE999]}\n", "NOPE999"),
        ("min_score: 140\n", ".github/stopship.yml: min_score:"),
        ("[not, a, mapping]\n", ".github/stopship.yml"),
    ],
)
def test_bad_config_exits_2_naming_file_key_and_reason(
    tmp_path: Path, config: str, message: str
) -> None:
    code, _, err = check(str(_service(tmp_path, config)))
    assert code == 2
    assert message in err


def test_a_malformed_rule_file_names_file_rule_and_field(tmp_path: Path) -> None:
    (tmp_path / "security.yml").write_text(
        "rules:\n  - id: SEC004\n    name: x\n    category: security\n    severity: high\n"
        "    points: 8\n    effort: 5\n    impact: i\n    matcher: {}\n    message: m\n"
        "    why: w\n    fix: f\n"
        "    examples: {bad: {files: {a.py: x}}, good: {files: {a.py: y}}}\n"
    )
    with pytest.raises(RuleError, match=r"^rules/security\.yml: SEC004: matcher: "):
        load_ruleset(tmp_path)
    (tmp_path / "security.yml").write_text("rules:\n  - id: SEC004\n    id: SEC005\n")
    with pytest.raises(RuleError, match="duplicate key 'id'"):
        load_ruleset(tmp_path)


def test_changed_since_limits_findings_but_the_score_covers_the_tree(tmp_path: Path) -> None:
    old = 'def a(c, x):\n    c.execute(f"SELECT id FROM t WHERE x = {x}")\n'
    new = 'def b(c, y):\n    c.execute(f"DELETE FROM t WHERE y = {y}")\n'
    (tmp_path / "old.py").write_text(old)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    (tmp_path / "new.py").write_text(new)
    _, full, _ = check(str(tmp_path), "--format", "json")
    _, changed, _ = check(str(tmp_path), "--format", "json", "--changed-since", "HEAD")
    full_report, changed_report = json.loads(full), json.loads(changed)
    assert {f["path"] for f in changed_report["findings"] if f["rule"] == "SEC002"} == {"new.py"}
    assert {f["path"] for f in full_report["findings"] if f["rule"] == "SEC002"} == {
        "old.py",
        "new.py",
    }
    assert changed_report["score"] == full_report["score"]
    code, _, err = check(str(tmp_path), "--changed-since", "no-such-ref")
    assert code == 2 and "no-such-ref" in err


def test_inline_suppressions_need_a_reason(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "def a(c, x):\n"
        '    c.execute(f"SELECT id FROM t WHERE x = {x}")  # stopship: ignore[SEC002] an enum\n'
        "def b(c, y):\n"
        '    c.execute(f"SELECT id FROM t WHERE y = {y}")  # stopship: ignore[SEC002]\n'
    )
    _, out, _ = check(str(tmp_path), "--format", "json")
    findings = json.loads(out)["findings"]
    # both are suppressed; the one without a reason is itself a (low) finding
    assert [f["line"] for f in findings if f["rule"] == "SEC002"] == []
    assert [(f["rule"], f["line"], f["severity"]) for f in findings if f["rule"] == "DEP013"] == [
        ("DEP013", 4, "low")
    ]


def test_rules_lists_the_catalogue_and_explains_one_rule() -> None:
    listing = runner.invoke(cli, ["rules"])
    assert listing.exit_code == 0
    assert "SEC001" in listing.stdout and "CTR001" in listing.stdout
    page = runner.invoke(cli, ["rules", "SEC002"])
    assert page.exit_code == 0
    assert "bound parameters" in page.stdout
    missing = runner.invoke(cli, ["rules", "NOPE123"])
    assert missing.exit_code == 2


def test_a_folder_with_nothing_to_audit_is_a_usage_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    code, out, err = check(str(tmp_path))
    assert code == 2
    assert "no file to audit" in err and "binary: 1" in err
    assert "READY" not in out


def test_a_sql_file_in_another_dialect_is_skipped_with_its_reason_not_a_parse_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "db" / "mysql").mkdir(parents=True)
    (tmp_path / "db" / "mysql" / "schema.sql").write_text(
        "CREATE TABLE `owners` (`id` INT(4) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY)"
        " ENGINE=InnoDB;\n"
    )
    (tmp_path / "app.py").write_text("print('hi')\n")
    _, out, _ = check(str(tmp_path))
    assert "Not judged by its parser: db/mysql/schema.sql (MySQL dialect)" in out
    assert "Could not fully parse" not in out
    _, markdown, _ = check(str(tmp_path), "--format", "markdown")
    assert "`db/mysql/schema.sql` (MySQL dialect)" in markdown
    assert "could not be fully parsed" not in markdown


def test_annotations_and_sarif_name_files_from_the_repository_root(tmp_path: Path) -> None:
    """Auditing a folder inside a repository (the Action's `path:`), GitHub places annotations
    and code-scanning results by the path from the repository's root."""
    service = tmp_path / "services" / "api"
    shutil.copytree(BAD, service)
    git(tmp_path, "init", "-q", "-b", "main")
    _, sarif, _ = check(str(service), "--format", "sarif")
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(sarif)["runs"][0]["results"]
    }
    assert "services/api/api/main.py" in uris
    _, commands, _ = check(str(service), "--format", "github")
    assert "file=services/api/api/main.py," in commands
    _, text, _ = check(str(service))
    assert "api/main.py:" in text and "services/api/api/main.py" not in text  # the folder's own


def test_changed_since_quick_wins_and_closing_line_speak_of_listed_findings_only(
    tmp_path: Path,
) -> None:
    old = (
        "import requests\n\n"
        "def a(url):\n    print('fetching', url)\n    return requests.get(url)\n"
    )
    (tmp_path / "old.py").write_text(old)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "new.py").write_text("def b(x):\n    return x + 1\n")
    _, full, _ = check(str(tmp_path), "--format", "json")
    assert json.loads(full)["quick_wins"], "the old file's findings have quick wins"
    _, changed, _ = check(str(tmp_path), "--format", "json", "--changed-since", "HEAD")
    report = json.loads(changed)
    listed_rules = {f["rule"] for f in report["findings"]}
    assert {w["rule"] for w in report["quick_wins"]} <= listed_rules
    _, text, _ = check(str(tmp_path), "--changed-since", "HEAD")
    closing = text.rstrip().splitlines()[-1]
    stops = sum(1 for f in report["findings"] if f["stop_ship"])
    wins = len(report["quick_wins"])
    # the closing line names what the listing holds, and nothing it does not ("0 quick wins")
    assert (f"{stops} stop-ship finding" in closing) == (stops > 0)
    assert (f"{wins} quick win" in closing) == (wins > 0)
    assert str(report["score"]) in closing


def test_markdown_says_how_many_low_findings_it_leaves_out_and_how_to_see_them() -> None:
    _, out, _ = check(str(BAD), "--format", "json")
    lows = [f for f in json.loads(out)["findings"] if f["severity"] == "low" and not f["stop_ship"]]
    assert lows, "the planted sample has low-severity findings"
    _, markdown, _ = check(str(BAD), "--format", "markdown")
    n = len(lows)
    assert f"{n} low-severity finding{'' if n == 1 else 's'} not listed here" in markdown
    assert "`stopship check` or `--format json` lists every finding" in markdown


def test_required_attestations_are_unconfirmed_questions_that_fail_nothing(
    tmp_path: Path,
) -> None:
    service = tmp_path / "service"
    shutil.copytree(GOOD, service)
    (service / ".github").mkdir(exist_ok=True)
    (service / ".github" / "stopship.yml").write_text("launch: {stage: public}\n")
    code, text, err = check(str(service))
    assert code == 0, text + err
    assert "[ ] Are backups taken, and was a restore from them tested? — unconfirmed" in text
    assert "2 required attestations unconfirmed (backups, rollback)" in text
    _, markdown, _ = check(str(service), "--format", "markdown")
    gate = markdown.split("### Release gate", 1)[1]
    assert "- [ ] Was a rollback of this release rehearsed, migrations included? — unconfirmed" in (
        gate
    )
    _, out, _ = check(str(service), "--format", "json")
    attestations = json.loads(out)["attestations"]
    assert [(a["item"], a["required"], a["confirmed"]) for a in attestations] == [
        ("backups", True, None),
        ("rollback", True, None),
    ]
