"""SARIF as GitHub code scanning ingests it: GitHub's own rules of the SARIF SDK's multitool
(`validate --rule-kind "Sarif;Gh"`), and the ingestion limits and conventions the multitool does
not check (security severities, result and size caps, categories, locations, help pages)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
from pathlib import Path

import pytest

from app.checkout.audit_local import audit_checkout
from app.engine.model import Severity
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.render.rule_docs import DOCS_URL
from app.render.sarif import render, sarif_log

ROOT = Path(__file__).parents[2]
BAD = ROOT / "tests" / "corpus" / "fastapi-bad"
MULTITOOL = ROOT / ".cache" / "sarif" / "multitool" / "Sarif.Multitool"
MULTITOOL_POLICY = Path(__file__).with_name("sarif_multitool.xml")


@pytest.fixture(scope="module")
def audited() -> tuple[Report, Ruleset]:
    return audit_checkout(BAD, use_cache=False, jobs=1)


def _many(report: Report, copies: int) -> Report:
    """The report with each finding repeated `copies` times (distinct fingerprints)."""
    findings = [
        dataclasses.replace(f, fingerprint=f"{f.fingerprint}{n:06d}", message=f"{f.message} #{n}")
        for n in range(copies)
        for f in report.findings
    ]
    return dataclasses.replace(report, findings=findings)


def _run(log: dict[str, object]) -> dict[str, object]:
    runs = log["runs"]
    assert isinstance(runs, list) and len(runs) == 1
    run = runs[0]
    assert isinstance(run, dict)
    return run


def test_only_security_rules_are_security_alerts(audited: tuple[Report, Ruleset]) -> None:
    report, ruleset = audited
    rules = _run(sarif_log(report, ruleset))["tool"]["driver"]["rules"]  # type: ignore[index]
    category = {r.id: r.category for r in ruleset.rules}
    security = [r for r in rules if category[r["id"]] == "security"]
    others = [r for r in rules if category[r["id"]] != "security"]
    assert security and others
    for rule in security:
        assert "security" in rule["properties"]["tags"]
        assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
        assert "problem.severity" not in rule["properties"]
    for rule in others:
        assert "security-severity" not in rule["properties"]
        assert "security" not in rule["properties"]["tags"]
        assert rule["properties"]["problem.severity"] in {"error", "warning", "recommendation"}
    stop_ship = {r.id for r in ruleset.rules if r.stop_ship and r.category != "security"}
    assert all(
        r["properties"]["problem.severity"] == "error" for r in others if r["id"] in stop_ship
    )


def test_results_stop_under_githubs_cap_stop_ship_first_and_count_the_rest(
    audited: tuple[Report, Ruleset],
) -> None:
    report, ruleset = audited
    many = _many(report, 10)
    run = _run(sarif_log(many, ruleset, max_results=25))
    results = run["results"]
    assert isinstance(results, list) and len(results) == 25
    kept_stop_ship = [r["properties"]["stop_ship"] for r in results]
    total_stop_ship = len(many.stop_ship)
    assert kept_stop_ship == [True] * min(25, total_stop_ship) + [False] * (25 - total_stop_ship)
    assert run["properties"]["omitted_results"] == len(many.findings) - 25  # type: ignore[index]
    assert _run(sarif_log(report, ruleset))["properties"]["omitted_results"] == 0  # type: ignore[index]


def test_the_gzipped_file_stays_under_the_upload_limit(audited: tuple[Report, Ruleset]) -> None:
    report, ruleset = audited
    many = _many(report, 200)
    limit = 60_000
    text = render(many, ruleset, max_gzip_bytes=limit)
    assert len(gzip.compress(text.encode())) <= limit
    run = _run(json.loads(text))
    results = run["results"]
    assert isinstance(results, list) and 0 < len(results) < len(many.findings)
    assert results[0]["properties"]["stop_ship"]
    omitted = run["properties"]["omitted_results"]  # type: ignore[index]
    assert omitted == len(many.findings) - len(results)


def test_the_category_names_the_audited_folder(audited: tuple[Report, Ruleset]) -> None:
    report, ruleset = audited
    assert _run(sarif_log(dataclasses.replace(report, root_prefix=""), ruleset))[
        "automationDetails"
    ] == {"id": "stopship/"}
    nested = dataclasses.replace(report, root_prefix="services/api/")
    assert _run(sarif_log(nested, ruleset))["automationDetails"] == {"id": "stopship/services/api/"}


def test_repository_level_findings_are_shown_at_the_file_that_stands_for_the_repository(
    audited: tuple[Report, Ruleset],
) -> None:
    report, ruleset = audited
    assert report.repo_anchor is not None and (BAD / report.repo_anchor).is_file()
    repo_level = [i for i, f in enumerate(report.findings) if f.path is None]
    assert repo_level
    results = _run(sarif_log(report, ruleset))["results"]
    assert isinstance(results, list)
    for i in repo_level:
        physical = results[i]["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == report.from_root(report.repo_anchor)
        assert physical["region"] == {"startLine": 1}
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri not in {"", "."} and not uri.endswith("/")


def test_help_links_lead_to_checked_in_rule_pages(audited: tuple[Report, Ruleset]) -> None:
    report, ruleset = audited
    rules = _run(sarif_log(report, ruleset))["tool"]["driver"]["rules"]  # type: ignore[index]
    for rule in rules:
        assert rule["helpUri"] == f"{DOCS_URL}{rule['id']}.md"
        assert (ROOT / "docs" / "rules" / f"{rule['id']}.md").is_file()


def _multitool_problems(log: dict[str, object], folder: Path) -> list[str]:
    """The errors and warnings of the multitool's `validate --rule-kind "Sarif;Gh"` on `log`
    (`folder` is made for this run)."""
    folder.mkdir()
    target = folder / "stopship.sarif"
    target.write_text(json.dumps(log, indent=2), encoding="utf-8")
    verdict = folder / "validation.sarif"
    run = subprocess.run(
        [
            str(MULTITOOL),
            "validate",
            "--rule-kind",
            "Sarif;Gh",
            "--level",
            "Error;Warning",
            "--config",
            str(MULTITOOL_POLICY),
            "--output",
            str(verdict),
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(folder), "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = _run(json.loads(verdict.read_text(encoding="utf-8-sig")))["results"]
    assert isinstance(results, list)
    return [f"{r['ruleId']} {r['message'].get('arguments')}" for r in results]


def test_githubs_ingestion_rules_of_the_sarif_multitool_pass(
    audited: tuple[Report, Ruleset], tmp_path: Path
) -> None:
    assert MULTITOOL.is_file(), "run scripts/setup_test_assets.sh (.ci/run does) first"
    report, ruleset = audited
    # findings of every severity, repository-level ones and ones without a line
    assert {f.severity for f in report.findings} == set(Severity)
    assert any(f.path is None for f in report.findings)
    log = sarif_log(report, ruleset)
    assert _multitool_problems(log, tmp_path / "ours") == []
    # the validator does apply GitHub's rules: a result without a location is refused
    del _run(log)["results"][0]["locations"]  # type: ignore[index]
    assert any(p.startswith("GH") for p in _multitool_problems(log, tmp_path / "broken"))
