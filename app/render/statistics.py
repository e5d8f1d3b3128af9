"""`stopship check --statistics`: how many listed findings each rule has, most first (ruff's
`--statistics`), as text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from app.engine.report import Report


@dataclass(frozen=True)
class RuleCount:
    rule: str
    name: str
    severity: str
    count: int
    stop_ship: int


def rule_counts(report: Report) -> list[RuleCount]:
    """Per rule of the listed findings: how many, how many stop-ship; most first, then by id."""
    counts: dict[str, list[int]] = {}
    first: dict[str, tuple[str, str]] = {}
    for f in report.findings:
        n = counts.setdefault(f.rule, [0, 0])
        n[0] += 1
        n[1] += f.stop_ship
        first.setdefault(f.rule, (f.name, str(f.severity)))
    rows = [RuleCount(rule, *first[rule], n, stops) for rule, (n, stops) in counts.items()]
    return sorted(rows, key=lambda r: (-r.count, r.rule))


def render_text(report: Report) -> str:
    rows = rule_counts(report)
    if not rows:
        return "No findings.\n"
    width = len(str(rows[0].count))
    lines = [
        f"{r.count:>{width}}  {r.rule}  {r.severity:<8}  {r.name}"
        + (f"  ({r.stop_ship} stop-ship)" if r.stop_ship else "")
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps([asdict(r) for r in rule_counts(report)], indent=2) + "\n"
