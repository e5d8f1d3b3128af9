"""Audit a local checkout end to end: config, snapshot, cached parallel scan, report."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.checkout.directory import directory_snapshot
from app.checkout.git import GitError, repository_name
from app.checkout.git import changed_since as git_changed_since
from app.checkout.result_cache import ResultCache
from app.checkout.scan import Progress, scan_snapshot
from app.engine.audit import AuditInput, build_report
from app.engine.config import CONFIG_PATH, ConfigError, check_rule_ids, parse_config
from app.engine.report import Report
from app.engine.ruleset import RuleError, Ruleset, load_ruleset


class LocalAuditError(Exception):
    """Usage or configuration problem: exit code 2, message names what is wrong."""


def audit_checkout(
    path: Path,
    *,
    config_file: Path | None = None,
    changed_since: str | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: Progress | None = None,
    rules_dir: Path | None = None,
) -> tuple[Report, Ruleset]:
    if not path.is_dir():
        raise LocalAuditError(f"{path}: not a directory")
    root = path.resolve()
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleError as exc:
        raise LocalAuditError(str(exc)) from None
    config_path = config_file or root / CONFIG_PATH
    label = str(config_file) if config_file else CONFIG_PATH
    if config_file is not None and not config_file.is_file():
        raise LocalAuditError(f"--config {config_file}: no such file")
    try:
        raw = config_path.read_bytes() if config_path.is_file() else None
        config = parse_config(raw, label)
        check_rule_ids(config, set(ruleset.by_id), label)
    except ConfigError as exc:
        raise LocalAuditError(str(exc)) from None
    changed: set[str] | None = None
    if changed_since:
        try:
            changed = git_changed_since(root, changed_since)
        except GitError as exc:
            raise LocalAuditError(str(exc)) from None
    cache = None
    if use_cache:
        cache_dir = Path(os.environ.get("STOPSHIP_CACHE_DIR") or root / ".stopship_cache")
        try:
            cache = ResultCache(cache_dir)
        except (OSError, sqlite3.Error):
            cache = None  # a read-only checkout still gets audited, only slower
    try:
        snapshot = directory_snapshot(root, cache.known_blobs() if cache else None)
        outcome = scan_snapshot(
            snapshot, root, ruleset, rules_dir=rules_dir, cache=cache, jobs=jobs, progress=progress
        )
        if cache:
            cache.remember_blobs(snapshot.stamps)
    finally:
        if cache:
            cache.close()
    audit = AuditInput(
        repo=repository_name(root),
        paths=snapshot.paths,
        results=outcome.results,
        stats=outcome.stats,
        changed_paths=changed,
    )
    return build_report(ruleset, config, audit), ruleset
