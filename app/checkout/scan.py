"""Analyse a local snapshot: cache look-ups, then the misses on every core (processes, not threads:
ast-grep holds the GIL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.checkout.result_cache import ResultCache
from app.checkout.workers import Workers
from app.engine.analyze import Analyzer
from app.engine.model import FileResult
from app.engine.report import ScanStats
from app.engine.ruleset import Ruleset
from app.engine.serialize import result_to_json
from app.engine.snapshot import Snapshot, SnapshotEntry

Progress = Callable[[int, int], None]
PARALLEL_MIN_FILES = 64
CHUNK_FILES = 64


@dataclass
class ScanOutcome:
    results: dict[str, FileResult]
    stats: ScanStats


def scan_snapshot(
    snapshot: Snapshot,
    root: Path,
    ruleset: Ruleset,
    *,
    rules_dir: Path | None = None,
    cache: ResultCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    entries: Iterable[SnapshotEntry] | None = None,
) -> ScanOutcome:
    """Per-file results for every entry of `snapshot`, from the cache where possible.

    `entries`, when given, yields the snapshot's entries while its files are being read (see
    `snapshot_stream`): the workers then start on the first misses while the rest is read."""
    analyzer = Analyzer(ruleset)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    pool = Workers(analyzer, root, rules_dir, workers, cache) if workers > 1 else None
    results: dict[str, FileResult] = {}
    misses: list[SnapshotEntry] = []
    unsent: list[tuple[str, str]] = []  # (path, path kind)
    count = 0
    try:
        for batch in _batches(snapshot.entries if entries is None else entries, CHUNK_FILES):
            kinds = {e.path: analyzer.path_kind(e.path) for e in batch}
            keys = {
                e.path: ResultCache.key(e.blob_sha, kinds[e.path], ruleset.digest) for e in batch
            }
            cached = cache.get_many(list(set(keys.values()))) if cache else {}
            for entry in batch:
                hit = cached.get(keys[entry.path])
                if hit is not None:
                    results[entry.path] = hit
                    count += 1
                else:
                    misses.append(entry)
                    unsent.append((entry.path, kinds[entry.path]))
            if pool is not None:
                pool.keys.update(keys)
                # as many misses as make the pool worth starting: from then on, chunks go out
                if pool.started or len(misses) >= PARALLEL_MIN_FILES:
                    while len(unsent) >= CHUNK_FILES:
                        pool.submit(unsent[:CHUNK_FILES])
                        del unsent[:CHUNK_FILES]
                    count += pool.take_finished()
            if progress:
                progress(count, len(snapshot.entries))
        total = len(snapshot.entries)
        if pool is not None and (pool.started or len(misses) >= PARALLEL_MIN_FILES):
            for start in range(0, len(unsent), CHUNK_FILES):
                pool.submit(unsent[start : start + CHUNK_FILES])

            def done(files: int) -> None:
                nonlocal count
                count += files
                if progress:
                    progress(count, total)

            pool.take_rest(done)
            pool.save()
            fresh = {path: result for path, (result, _) in pool.fresh.items()}
        else:
            fresh = {}
            encoded: dict[str, str] = {}
            for entry in misses:
                result = fresh[entry.path] = analyzer.analyze(
                    entry.path, snapshot.loader(entry.path)
                )
                kind = analyzer.path_kind(entry.path)
                key = ResultCache.key(entry.blob_sha, kind, ruleset.digest)
                encoded[key] = result_to_json(result)
                count += 1
                if progress and count % 50 == 0:
                    progress(count, total)
            if cache and encoded:
                cache.put_encoded(encoded)
    finally:
        if pool is not None:
            pool.close()
    results.update(fresh)
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


def _batches(entries: Iterable[SnapshotEntry], size: int) -> Iterator[list[SnapshotEntry]]:
    batch: list[SnapshotEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
