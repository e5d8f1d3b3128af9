"""Analyse a local snapshot: cache look-ups, then the misses on every core (processes, not threads:
ast-grep holds the GIL)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
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
# results written to the cache a thousand at a time (a transaction each)
SAVE_FILES = 1000

# The analyzer of a pool worker: inherited, prepared, from the parent when the pool forks (neither
# the ruleset nor its patterns are compiled again), else built by `_init_worker`.
_worker_analyzer: Analyzer | None = None


def _init_worker(rules_dir: str | None) -> None:
    global _worker_analyzer
    if _worker_analyzer is None:
        _worker_analyzer = Analyzer(load_ruleset(Path(rules_dir) if rules_dir else None))
    _worker_analyzer.prepare()  # already done before a fork


def _analyze_chunk(root: str, paths: list[tuple[str, str]]) -> list[tuple[str, FileResult, str]]:
    """(path, result, result as cache JSON) per (path, path kind): the worker encodes for the
    cache, and the result itself travels pickled (our own processes), which the parent loads
    faster than JSON."""
    assert _worker_analyzer is not None
    out = []
    for path, kind in paths:
        result = _worker_analyzer.analyze(path, read_local(root, path), kind)
        out.append((path, result, result_to_json(result)))
    return out


@dataclass
class ScanOutcome:
    results: dict[str, FileResult]
    stats: ScanStats


def _pool(analyzer: Analyzer, rules_dir: Path | None, workers: int) -> ProcessPoolExecutor:
    """Forked workers where fork is safe to use (Linux) share the parent's analyzer; elsewhere
    spawned ones load the ruleset once each."""
    global _worker_analyzer
    if sys.platform == "linux":
        _worker_analyzer = analyzer  # inherited: the ruleset is not loaded again
        analyzer.prepare()  # compiled once, before the fork, rather than once per worker
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(rules_dir) if rules_dir else None,),
    )


class _Workers:
    """Misses handed to a process pool in chunks as they are found (the pool is started by the
    first chunk), results taken as they come back."""

    def __init__(
        self,
        analyzer: Analyzer,
        root: Path,
        rules_dir: Path | None,
        workers: int,
        cache: ResultCache | None,
    ) -> None:
        self.analyzer = analyzer
        self.root = str(root)
        self.rules_dir = rules_dir
        self.workers = workers
        self.cache = cache
        self.keys: dict[str, str] = {}  # cache key by path
        self.pool: ProcessPoolExecutor | None = None
        self.futures: set[Future[list[tuple[str, FileResult, str]]]] = set()
        self.fresh: dict[str, tuple[FileResult, str]] = {}
        self.unsaved: dict[str, str] = {}  # cache key -> encoded result, not yet written

    @property
    def started(self) -> bool:
        return self.pool is not None

    def submit(self, paths: list[tuple[str, str]]) -> None:
        if self.pool is None:
            self.pool = _pool(self.analyzer, self.rules_dir, self.workers)
        self.futures.add(self.pool.submit(_analyze_chunk, self.root, paths))

    def take_finished(self) -> int:
        """Take the results of the chunks that are done; how many files they had."""
        return sum(self._take(f) for f in [f for f in self.futures if f.done()])

    def take_rest(self, each: Callable[[int], None]) -> None:
        """Wait for every chunk, telling `each` how many files each one had."""
        for future in as_completed(list(self.futures)):
            each(self._take(future))

    def _take(self, future: Future[list[tuple[str, FileResult, str]]]) -> int:
        self.futures.discard(future)
        chunk = future.result()
        for path, result, encoded in chunk:
            self.fresh[path] = (result, encoded)
            self.unsaved[self.keys[path]] = encoded
        if len(self.unsaved) >= SAVE_FILES:
            self.save()  # while the other chunks are still being analysed
        return len(chunk)

    def save(self) -> None:
        if self.cache and self.unsaved:
            self.cache.put_encoded(self.unsaved)
        self.unsaved = {}

    def close(self) -> None:
        global _worker_analyzer
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        _worker_analyzer = None


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
    pool = _Workers(analyzer, root, rules_dir, workers, cache) if workers > 1 else None
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
