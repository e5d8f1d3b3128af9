"""Analyse a local snapshot: cache look-ups, then the misses on every core (processes, not threads:
ast-grep holds the GIL)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from app.checkout.directory import read_local
from app.checkout.result_cache import ResultCache
from app.engine.analyze import Analyzer
from app.engine.model import FileResult
from app.engine.report import ScanStats
from app.engine.ruleset import Ruleset, load_ruleset
from app.engine.serialize import result_to_json
from app.engine.snapshot import Snapshot, SnapshotEntry

Progress = Callable[[int, int], None]
PARALLEL_MIN_FILES = 64
CHUNK_FILES = 64

# The analyzer of a pool worker: inherited from the parent when the pool forks (no second load of
# the ruleset, no second compile of its patterns), else built by `_init_worker`.
_worker_analyzer: Analyzer | None = None


def _init_worker(rules_dir: str | None) -> None:
    global _worker_analyzer
    if _worker_analyzer is None:
        _worker_analyzer = Analyzer(load_ruleset(Path(rules_dir) if rules_dir else None))


def _analyze_chunk(root: str, paths: list[str]) -> list[tuple[str, FileResult, str]]:
    """(path, result, result as cache JSON) per file: the worker encodes for the cache, and the
    result itself travels pickled (our own processes), which the parent loads faster than JSON."""
    assert _worker_analyzer is not None
    base = Path(root)
    out = []
    for path in paths:
        result = _worker_analyzer.analyze(path, read_local(base, path))
        out.append((path, result, result_to_json(result)))
    return out


@dataclass
class ScanOutcome:
    results: dict[str, FileResult]
    stats: ScanStats


def _chunks(entries: list[SnapshotEntry], size: int) -> list[list[str]]:
    # Spread big files evenly: sort by size, deal round-robin into chunks of about `size` files.
    ordered = sorted(entries, key=lambda e: -e.size)
    count = max(1, len(ordered) // size)
    chunks: list[list[str]] = [[] for _ in range(count)]
    for i, entry in enumerate(ordered):
        chunks[i % count].append(entry.path)
    return chunks


def _pool(analyzer: Analyzer, rules_dir: Path | None, workers: int) -> ProcessPoolExecutor:
    """Forked workers where fork is safe to use (Linux) share the parent's analyzer; elsewhere
    spawned ones load the ruleset once each."""
    global _worker_analyzer
    if sys.platform == "linux":
        _worker_analyzer = analyzer
        analyzer.prepare()  # compile once, before the fork, instead of once per worker
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(rules_dir) if rules_dir else None,),
    )


def _analyze_in_pool(
    analyzer: Analyzer,
    root: Path,
    misses: list[SnapshotEntry],
    workers: int,
    rules_dir: Path | None,
    done: Callable[[int], None],
) -> dict[str, tuple[FileResult, str]]:
    fresh: dict[str, tuple[FileResult, str]] = {}
    global _worker_analyzer
    try:
        with _pool(analyzer, rules_dir, workers) as pool:
            futures = [
                pool.submit(_analyze_chunk, str(root), chunk)
                for chunk in _chunks(misses, CHUNK_FILES)
            ]
            for future in as_completed(futures):
                chunk = future.result()
                for path, result, encoded in chunk:
                    fresh[path] = (result, encoded)
                done(len(chunk))
    finally:
        _worker_analyzer = None
    return fresh


def scan_snapshot(
    snapshot: Snapshot,
    root: Path,
    ruleset: Ruleset,
    *,
    rules_dir: Path | None = None,
    cache: ResultCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> ScanOutcome:
    """Per-file results for every entry of `snapshot`, from the cache where possible."""
    analyzer = Analyzer(ruleset)
    keys = {
        e.path: ResultCache.key(e.blob_sha, analyzer.path_kind(e.path), ruleset.digest)
        for e in snapshot.entries
    }
    cached = cache.get_many(list(set(keys.values()))) if cache else {}
    results: dict[str, FileResult] = {}
    misses: list[SnapshotEntry] = []
    for entry in snapshot.entries:
        hit = cached.get(keys[entry.path])
        if hit is not None:
            results[entry.path] = hit
        else:
            misses.append(entry)
    total = len(snapshot.entries)
    count = total - len(misses)
    if progress:
        progress(count, total)

    def done(files: int) -> None:
        nonlocal count
        count += files
        if progress:
            progress(count, total)

    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    fresh: dict[str, tuple[FileResult, str]] = {}
    if workers > 1 and len(misses) >= PARALLEL_MIN_FILES:
        fresh = _analyze_in_pool(analyzer, root, misses, workers, rules_dir, done)
    else:
        for entry in misses:
            result = analyzer.analyze(entry.path, snapshot.loader(entry.path))
            fresh[entry.path] = (result, result_to_json(result))
            count += 1
            if progress and count % 50 == 0:
                progress(count, total)
    results.update((path, result) for path, (result, _) in fresh.items())
    if cache and fresh:
        cache.put_encoded({keys[p]: encoded for p, (_, encoded) in fresh.items()})
    problems = tuple(
        (path, f"{p.parser}: {p.message}")
        for path, r in sorted(results.items())
        for p in r.problems
    )
    stats = ScanStats(
        files_total=total + sum(snapshot.skipped.values()),
        files_analyzed=len(fresh),
        cache_hits=total - len(misses),
        skipped=dict(snapshot.skipped),
        parse_problems=problems,
    )
    return ScanOutcome(results, stats)
