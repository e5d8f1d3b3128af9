"""The worker processes of a scan: forked from the parent with its analyzer (Linux) or spawned,
fed chunks of misses as the parent finds them, their results written to the cache as they come
back."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from app.checkout.directory import read_local
from app.checkout.result_cache import ResultCache
from app.engine.analyze import Analyzer
from app.engine.model import FileResult
from app.engine.ruleset import load_ruleset
from app.engine.serialize import result_to_json

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


class Workers:
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
