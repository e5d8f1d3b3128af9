"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`), with
partialFingerprints.

GitHub files a result as a security alert when its rule has a `security-severity`: only the
security rules carry one; the others say how bad they are with `problem.severity`. An upload over
25,000 results in a run or 10 MB gzipped is refused whole, so the results stop short of both,
stop-ship first, and the run's properties count those left out."""

from __future__ import annotations

import gzip
import json
from typing import Any

from app import __version__
from app.engine.model import Finding
from app.engine.report import Report
from app.engine.ruleset import Rule, Ruleset
from app.render.rule_docs import doc_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/stopship/stopship"
# GitHub's hard limits on one upload ("SARIF results exceed limits" in its code scanning docs)
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
_SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.0", "low": "2.0"}
# where a repository-level finding is shown when the report names no file for the repository
_FALLBACK_ANCHOR = "README.md"


def _level(f: Finding) -> str:
    if f.stop_ship or f.severity.rank >= 3:
        return "error"
    return "warning" if f.severity.rank == 2 else "note"


def _problem_severity(rule: Rule) -> str:
    if rule.stop_ship or rule.severity.rank >= 3:
        return "error"
    return "warning" if rule.severity.rank == 2 else "recommendation"


def _rule(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": [rule.category], "precision": "high"}
    if rule.category == "security":
        properties["security-severity"] = _SECURITY_SEVERITY[rule.severity.value]
    else:
        properties["problem.severity"] = _problem_severity(rule)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule.why.strip()},
        "help": {
            "text": f"{rule.why.strip()}\n\nFix: {rule.fix.strip()}",
            "markdown": (
                f"**Why is this bad?** {rule.why.strip()}\n\n**Use instead:** {rule.fix.strip()}"
            ),
        },
        "helpUri": doc_url(rule.id),
        "defaultConfiguration": {
            "level": "error" if rule.stop_ship or rule.severity.rank >= 3 else "warning"
        },
        "properties": properties,
    }


def _location(f: Finding, report: Report) -> dict[str, Any]:
    # GitHub needs a file for every result: a repository-level finding is shown at the file that
    # stands for the repository (its README or manifest), on its first line.
    path = f.path if f.path is not None else (report.repo_anchor or _FALLBACK_ANCHOR)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": report.from_root(path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": f.line or 1},
        }
    }


def _result(f: Finding, report: Report, rule_index: int) -> dict[str, Any]:
    scope = "" if f.path is not None else "Repository-wide: "
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _level(f),
        "message": {"text": f"{scope}{f.message}. Fix: {f.fix.strip()}"},
        "locations": [_location(f, report)],
        "partialFingerprints": {"stopship/v1": f.fingerprint},
        "properties": {
            "severity": str(f.severity),
            "stop_ship": f.stop_ship,
            "short_id": f.short_id,
        },
    }


def sarif_log(
    report: Report, ruleset: Ruleset, *, max_results: int = MAX_RESULTS
) -> dict[str, Any]:
    """The SARIF log of `report`: at most `max_results` results, stop-ship first, then by
    severity; the run's `omitted_results` property counts the others."""
    rules = list(ruleset.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    ordered = sorted(report.findings, key=lambda f: (not f.stop_ship, -f.severity.rank))
    kept = ordered[:max_results]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "stopship",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                # the category: one per audited folder, so that audits of two folders of one
                # repository do not close each other's alerts
                "automationDetails": {"id": f"stopship/{report.root_prefix}"},
                "results": [_result(f, report, index[f.rule]) for f in kept],
                "properties": {
                    "score": report.score,
                    "grade": report.grade,
                    "verdict": report.verdict,
                    "omitted_results": len(ordered) - len(kept),
                },
            }
        ],
    }


def _text(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2) + "\n"


def render(
    report: Report,
    ruleset: Ruleset,
    *,
    max_results: int = MAX_RESULTS,
    max_gzip_bytes: int = MAX_GZIP_BYTES,
) -> str:
    """The SARIF file: under `max_results` results and `max_gzip_bytes` once gzipped (as
    upload-sarif sends it), the findings left out first the least severe."""
    limit = min(max_results, len(report.findings))
    while True:
        text = _text(sarif_log(report, ruleset, max_results=limit))
        size = len(gzip.compress(text.encode(), compresslevel=6))
        if size <= max_gzip_bytes or limit == 0:
            return text
        # results are of a size: shrink in proportion, a little more so that few passes do
        limit = min(limit - 1, int(limit * max_gzip_bytes / size * 0.95))
        limit = max(limit, 0)
