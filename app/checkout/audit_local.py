"""Audit a local checkout end to end: config, snapshot, cached parallel scan, report."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from platformdirs import user_cache_dir

from app.checkout.directory import Listing, list_files, snapshot_stream
from app.checkout.git import GitError, release_baseline, repository_name_later, root_prefix
from app.checkout.git import changed_since as git_changed_since
from app.checkout.result_cache import ResultCache, TreeRecord
from app.checkout.scan import Progress, scan_snapshot
from app.engine.audit import AuditInput, SuppressionPolicy, build_report
from app.engine.config import (
    CONFIG_PATH,
    ConfigError,
    StopshipConfig,
    check_rule_ids,
    parse_config,
)
from app.engine.overrides import Overrides, apply_overrides
from app.engine.release import ReleaseBaseline, is_migration_file
from app.engine.repo_anchor import repo_anchor
from app.engine.report import Report, ScanStats
from app.engine.report_codec import report_from_json, report_to_json
from app.engine.ruleset import RuleError, Ruleset, load_ruleset
from app.engine.snapshot import Snapshot


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
    baseline: str | None = None,
    suppression_policy: SuppressionPolicy | None = None,
    git_root: Path | None = None,
    changed_paths: set[str] | None = None,
    overrides: Overrides | None = None,
    vulnerabilities: bool | None = None,
) -> tuple[Report, Ruleset]:
    """Audit the checkout at `path`. Migrations are judged against the release baseline:
    `baseline` (a git ref), else the config's `baseline:`, else the latest release tag.

    `git_root`: the checkout git is asked about (name, release, folder) when `path` holds a
    copy of its files made elsewhere (the staged tree); such a copy keeps no tree record.
    `changed_paths`: the files to list findings of, when known otherwise than `changed_since`.
    `overrides`: the command line's rule selection and launch context, over the config's.
    `vulnerabilities`: ask OSV about the lock files' pins (None: as the config says)."""
    if not path.is_dir():
        raise LocalAuditError(f"{path}: not a directory")
    root = path.resolve()
    cache = _open_cache(root) if use_cache else None
    # An audit allocates hundreds of thousands of small objects that live until it ends and form
    # no cycles: the cycle collector would scan them again and again (a fifth of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _audit(
            root,
            cache,
            config_file,
            changed_since,
            jobs,
            progress,
            rules_dir,
            baseline,
            suppression_policy,
            git_root.resolve() if git_root is not None else None,
            changed_paths,
            overrides,
            vulnerabilities,
        )
    finally:
        if collecting:
            gc.enable()
        if cache:
            cache.close()


def cache_directory(root: Path) -> Path:
    """Where the per-file results, tree records, reports and parsed rules are kept:
    `STOPSHIP_CACHE_DIR`, else the user's cache directory (`~/.cache/stopship` on Linux).

    Never inside the audited tree: whatever is there belongs to the code under audit, and a pull
    request could commit a cache whose results hide its own findings. One cache serves every
    checkout (results are keyed by content; tree records by the checkout's path)."""
    configured = os.environ.get("STOPSHIP_CACHE_DIR")
    directory = Path(configured).resolve() if configured else Path(user_cache_dir("stopship"))
    if directory.is_relative_to(root):
        raise LocalAuditError(
            f"STOPSHIP_CACHE_DIR {directory} is inside the audited folder {root}: a cache there"
            " could be planted by the code under audit. Point it outside (e.g. ~/.cache/stopship)"
            " or run with --no-cache."
        )
    return directory


def _open_cache(root: Path) -> ResultCache | None:
    directory = cache_directory(root)
    try:
        return ResultCache(directory)
    except (OSError, sqlite3.Error):
        return None  # an unwritable cache directory: the audit still runs, only slower


def _audit(
    root: Path,
    cache: ResultCache | None,
    config_file: Path | None,
    changed_since: str | None,
    jobs: int | None,
    progress: Progress | None,
    rules_dir: Path | None,
    baseline: str | None,
    suppression_policy: SuppressionPolicy | None,
    git_root: Path | None = None,
    changed_paths: set[str] | None = None,
    overrides: Overrides | None = None,
    vulnerabilities: bool | None = None,
) -> tuple[Report, Ruleset]:
    repo_root = git_root or root
    try:
        ruleset = load_ruleset(rules_dir, store=cache)
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
        if overrides is not None:
            config = apply_overrides(config, overrides, set(ruleset.by_id))
    except ConfigError as exc:
        raise LocalAuditError(str(exc)) from None
    changed = changed_paths
    if changed_since:
        try:
            changed = git_changed_since(repo_root, changed_since)
        except GitError as exc:
            raise LocalAuditError(str(exc)) from None
    release = _release(repo_root, baseline, config, label, changed)
    # known vulnerabilities change without the files changing: no kept report then
    ask_osv = config.vulnerabilities if vulnerabilities is None else vulnerabilities
    keep_report = suppression_policy is None and not ask_osv
    repo_name = repository_name_later(repo_root)  # git answers while the files are listed
    listing = list_files(root)
    repo = repo_name()
    keep_tree = cache is not None and git_root is None
    tree = cache.tree(root) if cache and keep_tree else None
    if cache and tree and tree.listing == listing.identity and keep_report:
        # The same files with the same stamps as last time: the same report, if one was kept.
        key = _report_key(tree.snapshot, ruleset, config, repo, changed, release)
        kept = _kept_report(cache, key, tree)
        if kept is not None:
            if progress:
                progress(tree.files, tree.files)
            return kept, ruleset
    snapshot, reading = snapshot_stream(root, tree.known_blobs() if tree else None, listing)
    outcome = scan_snapshot(
        snapshot,
        root,
        ruleset,
        rules_dir=rules_dir,
        cache=cache,
        jobs=jobs,
        progress=progress,
        entries=reading,
    )
    if not outcome.results:  # an empty audit would read as a perfect score
        skipped = ", ".join(f"{why}: {n}" for why, n in sorted(outcome.stats.skipped.items()))
        raise LocalAuditError(f"{root}: no file to audit ({skipped or 'the folder is empty'})")
    audit = AuditInput(
        repo=repo,
        paths=snapshot.paths,
        results=outcome.results,
        stats=outcome.stats,
        changed_paths=changed,
        release=release,
        suppression_policy=suppression_policy,
    )
    if ask_osv:
        from app.checkout.osv import check_vulnerabilities  # httpx only when OSV is asked

        directory = cache_directory(root) if cache else None
        found = check_vulnerabilities(root, snapshot.paths, directory)
        audit.external_hits, audit.notices = found.hits, found.notices
    report = build_report(ruleset, config, audit)
    report.root_prefix = root_prefix(repo_root)
    report.repo_anchor = repo_anchor(snapshot.paths)
    if cache and keep_tree and keep_report:
        _remember(
            cache,
            root,
            listing,
            snapshot,
            report,
            _report_key(_snapshot_identity(snapshot), ruleset, config, repo, changed, release),
        )
    return report, ruleset


def _snapshot_identity(snapshot: Snapshot) -> str:
    """Changes whenever a path or a blob id does: the per-file results depend on nothing else
    (besides the ruleset)."""
    text = "\n".join(f"{e.path}\0{e.blob_sha}" for e in snapshot.entries)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _release(
    root: Path, option: str | None, config: StopshipConfig, label: str, changed: set[str] | None
) -> ReleaseBaseline:
    """The release baseline: --baseline, the config's `baseline:`, or the latest release tag;
    the files of --changed-since (a pull request's own) always count as changed."""
    ref, source = (option, "--baseline") if option else (config.baseline, f"{label}: baseline")
    try:
        release = release_baseline(root, ref, source, config.release_tags)
    except GitError as exc:
        raise LocalAuditError(str(exc)) from None
    return release.with_changes(changed or ())


def _report_key(
    snapshot: str,
    ruleset: Ruleset,
    config: StopshipConfig,
    repo: str,
    changed: set[str] | None,
    release: ReleaseBaseline,
) -> str:
    """Everything a report depends on, except its date and scan statistics."""
    changed_paths = None if changed is None else sorted(changed)
    migrations = (
        None
        if release.changed is None
        else sorted(p for p in release.changed if is_migration_file(p))
    )
    parts = [
        snapshot,
        ruleset.digest,
        config.model_dump_json(),
        repo,
        changed_paths,
        [release.ref, release.source, migrations],
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _kept_report(cache: ResultCache, key: str, tree: TreeRecord) -> Report | None:
    text = cache.report(key)
    if text is None:
        return None
    try:
        kept = report_from_json(text)
    except (ValueError, TypeError):
        return None  # a damaged entry is a miss, and is overwritten
    stats = ScanStats(
        files_total=tree.files + sum(tree.skipped.values()),
        files_analyzed=0,
        cache_hits=tree.files,
        skipped=dict(tree.skipped),
        parse_problems=kept.stats.parse_problems,
    )
    return replace(kept, date=datetime.now(UTC).strftime("%Y-%m-%d"), stats=stats)


def _remember(
    cache: ResultCache,
    root: Path,
    listing: Listing,
    snapshot: Snapshot,
    report: Report,
    key: str,
) -> None:
    # A file that changed while it was read has no stamp: then the listing proves nothing.
    complete = len(snapshot.stamps) == len(snapshot.entries)
    blobs = json.dumps([[p, *stamp, sha] for p, (stamp, sha) in snapshot.stamps.items()])
    record = TreeRecord(
        listing=listing.identity if complete else "",
        snapshot=_snapshot_identity(snapshot),
        files=len(snapshot.entries),
        skipped=dict(snapshot.skipped),
        blobs=blobs,
    )
    cache.remember_tree(root, record)
    try:
        text = report_to_json(report)
    except (TypeError, ValueError):
        return  # a report field the codec does not know: such reports are just not kept
    cache.remember_report(key, text)
