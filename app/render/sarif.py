"""SARIF 2.1.0 for code scanning (`github/codeql-action/upload-sarif`), with partialFingerprints."""

from __future__ import annotations

import json
from typing import Any

from app import __version__
from app.engine.model import Finding
from app.engine.report import Report
from app.engine.ruleset import Rule, Ruleset

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.0", "low": "2.0"}
HELP_URI = "https://github.com/stopship/stopship/blob/main/docs/rules.md#{id}"


def _level(f: Finding) -> str:
    if f.stop_ship or f.severity.rank >= 3:
        return "error"
    return "warning" if f.severity.rank == 2 else "note"


def _rule(rule: Rule) -> dict[str, Any]:
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
        "helpUri": HELP_URI.format(id=rule.id.lower()),
        "defaultConfiguration": {"level": "error" if rule.severity.rank >= 3 else "warning"},
        "properties": {
            "tags": [rule.category],
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[rule.severity.value],
        },
    }


def _location(f: Finding, report: Report) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": report.from_root(f.path) or ".", "uriBaseId": "%SRCROOT%"}
    }
    if f.line:
        physical["region"] = {"startLine": f.line}
    return {"physicalLocation": physical}


def sarif_log(report: Report, ruleset: Ruleset) -> dict[str, Any]:
    rules = [r for r in ruleset.rules]
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in report.findings:
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": _level(f),
                "message": {"text": f"{f.message}. Fix: {f.fix.strip()}"},
                "locations": [_location(f, report)],
                "partialFingerprints": {"stopship/v1": f.fingerprint},
                "properties": {
                    "severity": str(f.severity),
                    "stop_ship": f.stop_ship,
                    "short_id": f.short_id,
                },
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "stopship",
                        "version": __version__,
                        "informationUri": "https://github.com/stopship/stopship",
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": results,
                "properties": {
                    "score": report.score,
                    "grade": report.grade,
                    "verdict": report.verdict,
                },
            }
        ],
    }


def render(report: Report, ruleset: Ruleset) -> str:
    return json.dumps(sarif_log(report, ruleset), indent=2) + "\n"
