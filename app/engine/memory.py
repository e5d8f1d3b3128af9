"""Audit an in-memory tree (path -> bytes or text): rule examples, tests, small callers."""

from __future__ import annotations

from collections.abc import Mapping

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import StopshipConfig
from app.engine.report import Report, ScanStats
from app.engine.ruleset import Ruleset


def audit_files(
    files: Mapping[str, str | bytes],
    ruleset: Ruleset,
    config: StopshipConfig | None = None,
    repo: str = "example",
    analyzer: Analyzer | None = None,
) -> Report:
    """Analyse every file and build the report, with no cache and no I/O."""
    analyzer = analyzer or Analyzer(ruleset)
    results = {}
    for path, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        results[path] = analyzer.analyze(path, data)
    audit = AuditInput(
        repo=repo,
        paths=sorted(files),
        results=results,
        stats=ScanStats(files_total=len(files), files_analyzed=len(files)),
    )
    return build_report(ruleset, config or StopshipConfig(), audit)
