"""Audit an in-memory tree (path -> bytes or text): rule examples, tests, small callers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import StopshipConfig
from app.engine.lockfiles import is_lock_file, locked_packages
from app.engine.report import Report, ScanStats
from app.engine.ruleset import Ruleset
from app.engine.vulnerabilities import Advisory, PackageKey, vulnerability_hits


def audit_files(
    files: Mapping[str, str | bytes],
    ruleset: Ruleset,
    config: StopshipConfig | None = None,
    repo: str = "example",
    analyzer: Analyzer | None = None,
    advisories: Mapping[PackageKey, Sequence[Advisory]] | None = None,
) -> Report:
    """Analyse every file and build the report, with no cache and no I/O. `advisories`: known
    vulnerabilities by pinned package, as an external source would give them (the lock files
    among `files` are read for their pins)."""
    analyzer = analyzer or Analyzer(ruleset)
    results = {}
    for path, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        results[path] = analyzer.analyze(path, data)
    external = {}
    if advisories:
        pins = {
            path: locked_packages(path, c if isinstance(c, str) else c.decode())
            for path, c in files.items()
            if is_lock_file(path)
        }
        external = vulnerability_hits(pins, advisories)
    audit = AuditInput(
        repo=repo,
        paths=sorted(files),
        results=results,
        stats=ScanStats(files_total=len(files), files_analyzed=len(files)),
        external_hits=external,
    )
    return build_report(ruleset, config or StopshipConfig(), audit)
