"""`stopship check --quiet`: one line per finding and nothing else (ruff's and semgrep's
`--quiet`); for a staged change, only the findings it introduces."""

from __future__ import annotations

from app.engine.model import Finding
from app.engine.report import Report


def finding_line(f: Finding) -> str:
    where = "repository" if f.path is None else (f"{f.path}:{f.line}" if f.line else f.path)
    stop = " STOP-SHIP" if f.stop_ship else ""
    return f"{where}: {f.rule} {f.severity}{stop} {f.message} ({f.short_id})"


def render(report: Report) -> str:
    findings = report.findings if report.baseline is None else report.baseline.introduced
    return "".join(finding_line(f) + "\n" for f in findings)
