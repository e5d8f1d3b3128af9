"""The JSON contract of DESIGN.md (extra keys are additions, never renames)."""

from __future__ import annotations

import json
from typing import Any

from app.engine.model import Finding
from app.engine.report import FindingsDiff, Report
from app.engine.ruleset import Rule, Ruleset
from app.engine.scoring import QUICK_WIN_MINUTES, grade_meaning


def finding_dict(f: Finding, rule: Rule | None = None) -> dict[str, Any]:
    """One finding; with its rule, also `why`, `impact` and `effort` (minutes to fix it)."""
    return {
        "id": f.fingerprint,
        "short_id": f.short_id,
        "rule": f.rule,
        "name": f.name,
        "category": f.category,
        "severity": str(f.severity),
        "stop_ship": f.stop_ship,
        "path": f.path,
        "line": f.line,
        "message": f.message,
        "fix": f.fix,
        "why": rule.why.strip() if rule else None,
        "impact": rule.impact.strip() if rule else None,
        "effort": rule.effort if rule else None,
        "quick_win": rule.effort < QUICK_WIN_MINUTES if rule else None,
    }


def report_dict(report: Report, ruleset: Ruleset | None = None) -> dict[str, Any]:
    rules = ruleset.by_id if ruleset is not None else {}
    return {
        "repo": report.repo,
        "date": report.date,
        "score": report.score,
        "grade": report.grade,
        "grade_meaning": grade_meaning(report.grade),
        "verdict": report.verdict,
        "strictness": report.strictness,
        "min_score": report.min_score,
        "stack": report.stack.as_dict(),
        "categories": [
            {"id": c.id, "name": c.name, "weight": c.weight, "score": c.score}
            for c in report.categories
        ],
        "findings": [finding_dict(f, rules.get(f.rule)) for f in report.findings],
        "quick_wins": [
            {
                "rule": w.rule,
                "name": w.name,
                "points": w.points,
                "fix": w.fix,
                "count": w.count,
                "effort": w.effort,
            }
            for w in report.quick_wins
        ],
        "gates": [{"name": g.name, "passed": g.passed, "detail": g.detail} for g in report.gates],
        "attestations": attestations_of(report),
        "suppressed": [
            dict(finding_dict(f, rules.get(f.rule)), reason=f.suppressed_by)
            for f in report.suppressed
        ],
        "projected_score": report.projected_score,
        "gate": report.gate_reason,
        "migrations": None
        if report.migrations is None
        else {
            "baseline": report.migrations.baseline,
            "source": report.migrations.source,
            "applied": report.migrations.applied,
            "judged": report.migrations.judged,
            "summary": report.migrations.describe(),
        },
        "out_of_scope_findings": report.out_of_scope,
        "notices": list(report.notices),
        **({} if report.baseline is None else {"against_base": _against_base(report.baseline)}),
        "stats": {
            "files_total": report.stats.files_total,
            "files_analyzed": report.stats.files_analyzed,
            "cache_hits": report.stats.cache_hits,
            "skipped": report.stats.skipped,
            "parse_problems": [{"path": p, "problem": m} for p, m in report.stats.parse_problems],
        },
    }


def _against_base(diff: FindingsDiff) -> dict[str, Any]:
    """A change against its base (`--staged`: the index against HEAD; base null: none)."""
    return {
        "base": diff.base_sha or None,
        "introduced": [finding_dict(f) for f in diff.introduced],
        "fixed": [finding_dict(f) for f in diff.fixed],
        "existing": len(diff.existing),
    }


def render(report: Report, ruleset: Ruleset) -> str:
    return json.dumps(report_dict(report, ruleset), indent=2) + "\n"


def attestations_of(report: Report) -> list[dict[str, Any]]:
    """The attestations the launch stage requires (and any confirmed), each with its question and
    the confirmation in force (null: unconfirmed; a local run has none)."""
    return [
        {
            "item": s.item,
            "question": s.question,
            "required": s.required,
            "confirmed": None
            if s.confirmed is None
            else {
                "by": s.confirmed.by,
                "on": s.confirmed.on,
                "evidence": s.confirmed.evidence,
                "until": s.confirmed.until,
            },
        }
        for s in report.attestations
    ]
