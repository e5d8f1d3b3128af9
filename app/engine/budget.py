"""Files analysed in child processes, each within a time and memory budget.

The parsers and ast-grep run native code that holds the GIL: a file analysed in a thread of the
service stops its event loop (health checks, webhooks) and the worker's heartbeat for as long as
it takes, and nothing can interrupt it. Here each file is analysed in a child process (one file
at a time per process, as many processes as analyses may run at once): the parent only waits on
a pipe, without the GIL. A file that takes longer than the budget has its process killed (a new
one takes its place for the next file), one that needs more memory than the budget (the child's
address space is limited) ends the same way; either way the file's result is a parse problem
that says so, never a hang.
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from app.engine.analyze import Analyzer
from app.engine.model import FileResult, ParseProblem
from app.engine.ruleset import Ruleset

BUDGET_PARSER = "budget"
# A child loads and compiles the ruleset before its first file; not charged to that file.
_START_SECONDS = 120.0


@dataclass(frozen=True)
class Budget:
    """What one file may cost: wall-clock seconds, and the analysing process's address space."""

    seconds: float = 60.0
    memory_mb: int = 1024


class AnalysisStopped(Exception):
    """The analysis processes were closed while this file was being analysed."""


def over_budget(result: FileResult) -> bool:
    """True for the result of a file that went over its budget (not worth caching: the same
    file may fit on a less busy machine)."""
    return any(p.parser == BUDGET_PARSER for p in result.problems)


class AnalysisProcesses:
    """Up to `processes` files analysed at once, each in a child process, within `budget`.
    `analyze` blocks its calling thread (call it from a worker thread in async code)."""

    def __init__(self, ruleset: Ruleset, budget: Budget, processes: int) -> None:
        self.ruleset = ruleset
        self.budget = budget
        # the last child used is taken first: the others start only when files overlap
        self._free: queue.LifoQueue[_Child] = queue.LifoQueue()
        self._children = [_Child(self) for _ in range(max(1, processes))]
        for child in self._children:
            self._free.put(child)
        self._closed = threading.Event()

    def analyze(self, path: str, data: bytes) -> FileResult:
        if self._closed.is_set():
            raise AnalysisStopped(path)
        child = self._free.get()
        try:
            return child.analyze(path, data)
        finally:
            self._free.put(child)

    def close(self) -> None:
        """Kill every child (an analysis under way raises AnalysisStopped in its own thread,
        which closes the pipe it is reading; the idle children are cleaned up here)."""
        self._closed.set()
        for child in self._children:
            child.kill()
        while True:
            try:
                self._free.get_nowait().stop()
            except queue.Empty:
                break


class _Child:
    """One child process and the pipe to it, started again after it was killed."""

    def __init__(self, owner: AnalysisProcesses) -> None:
        self.owner = owner
        self.process: Any = None
        self.conn: Connection | None = None
        self._lock = threading.Lock()

    def analyze(self, path: str, data: bytes) -> FileResult:
        conn = self._started()
        budget = self.owner.budget
        try:
            conn.send((path, data))
            if conn.poll(budget.seconds):
                status, result = conn.recv()
                if status == "ok":
                    assert isinstance(result, FileResult)
                    return result
                return _problem(f"analysis needed more than {budget.memory_mb} MiB: not analysed")
        except (EOFError, OSError):
            self.stop()
            if self.owner._closed.is_set():
                raise AnalysisStopped(path) from None
            return _problem(
                f"the analysing process ended abnormally (out of its {budget.memory_mb} MiB, "
                "or a parser crashed): not analysed"
            )
        self.stop()
        if self.owner._closed.is_set():
            raise AnalysisStopped(path)
        return _problem(f"analysis took over {budget.seconds:g} s: not analysed")

    def _started(self) -> Connection:
        with self._lock:
            if self.owner._closed.is_set():
                raise AnalysisStopped("closed")
            if self.process is not None and self.process.is_alive() and self.conn is not None:
                return self.conn
            self._stop_locked()
            context = multiprocessing.get_context("spawn")  # a service's threads do not fork
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(child, self.owner.ruleset, self.owner.budget.memory_mb),
                name="stopship-analysis",
                daemon=True,
            )
            process.start()
            child.close()
            self.process, self.conn = process, parent
        try:
            if parent.poll(_START_SECONDS) and parent.recv() == "ready":
                return parent
        except (EOFError, OSError):
            if self.owner._closed.is_set():
                self.stop()
                raise AnalysisStopped("closed while starting") from None
        self.stop()
        raise RuntimeError("the analysis process did not start")

    def kill(self) -> None:
        with self._lock:
            if self.process is not None and self.process.is_alive():
                self.process.kill()

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None


def _problem(message: str) -> FileResult:
    return FileResult(problems=[ParseProblem(BUDGET_PARSER, message)])


def _serve(conn: Connection, ruleset: Ruleset, memory_mb: int) -> None:
    """A child: analyse each (path, bytes) received, send the result; stop when the parent goes."""
    analyzer = Analyzer(ruleset)
    analyzer.prepare()
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        try:
            path, data = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", analyzer.analyze(path, data)))
        except MemoryError:
            conn.send(("memory", None))
