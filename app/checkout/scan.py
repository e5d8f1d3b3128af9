"""Analyse a local snapshot: cache look-ups, then the misses on every core (processes, not threads:
ast-grep holds the GIL)."""

from __future__ import annotations

import os
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
from app.engine.snapshot import Snapshot, SnapshotEntry

Progress = Callable[[int, int], None]
PARALLEL_MIN_FILES = 64
CHUNK_FILES = 64

_worker_analyzer: Analyzer | None = None


def _init_worker(rules_dir: str | None) -> None:
    global _worker_analyzer
    _worker_analyzer = Analyzer(load_ruleset(Path(rules_dir) if rules_dir else None))


def _analyze_chunk(root: str, paths: list[str]) -> list[tuple[str, FileResult]]:
    assert _worker_analyzer is not None
    base = Path(root)
    return [(p, _worker_analyzer.analyze(p, read_local(base, p))) for p in paths]


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
    done = total - len(misses)
    if progress:
        progress(done, total)
    fresh: dict[str, FileResult] = {}
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers > 1 and len(misses) >= PARALLEL_MIN_FILES:
        with ProcessPoolExecutor(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(str(rules_dir) if rules_dir else None,),
        ) as pool:
            futures = [
                pool.submit(_analyze_chunk, str(root), chunk)
                for chunk in _chunks(misses, CHUNK_FILES)
            ]
            for future in as_completed(futures):
                for path, result in future.result():
                    fresh[path] = result
                    done += 1
                if progress:
                    progress(done, total)
    else:
        for entry in misses:
            fresh[entry.path] = analyzer.analyze(entry.path, snapshot.loader(entry.path))
            done += 1
            if progress and done % 50 == 0:
                progress(done, total)
    results.update(fresh)
    if cache and fresh:
        cache.put_many({keys[p]: r for p, r in fresh.items()})
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
