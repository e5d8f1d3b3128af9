"""GitHub workflow commands (`::error file=…,line=…,title=…::message`), stop-ship first."""

from __future__ import annotations

from app.engine.model import Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def level_of(f: Finding) -> str:
    if f.stop_ship:
        return "error"
    return "warning" if f.severity.rank >= 2 else "notice"


def command(f: Finding, root_prefix: str = "") -> str:
    """The workflow command of one finding; its file named from the repository's root."""
    props = []
    if f.path:
        props.append(f"file={_escape_property(root_prefix + f.path)}")
        if f.line:
            props.append(f"line={f.line}")
    title = f"{f.rule} {f.name}" + (" (stop-ship)" if f.stop_ship else "")
    props.append(f"title={_escape_property(title)}")
    message = f"{f.message} [{f.short_id}] Fix: {f.fix.strip()}"
    return f"::{level_of(f)} {','.join(props)}::{_escape_data(message)}"


def render(report: Report, ruleset: Ruleset, limit: int | None = None) -> str:
    findings = sorted(report.findings, key=lambda f: (not f.stop_ship, -f.severity.rank))
    if limit is not None:
        findings = findings[:limit]
    lines = [command(f, report.root_prefix) for f in findings]
    lines.append(
        f"::notice title=stopship::Score {report.score}/100 ({report.grade}) — {report.verdict}"
    )
    return "\n".join(lines) + "\n"
