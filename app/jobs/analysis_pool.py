"""The App's analysis processes (app/engine/budget.py): one set per ruleset per process, sized by
how many jobs analyse at once (`serve`'s inline concurrency, a worker's concurrency), started by
the first file analysed. Analyses never run on the event loop's thread or hold its GIL, so health
checks, webhooks and the worker's heartbeat go on during a slow file."""

from __future__ import annotations

import threading

from app.engine.budget import AnalysisProcesses, Budget
from app.engine.ruleset import Ruleset
from app.settings import Settings

_lock = threading.Lock()
_budget = Budget()
_processes = 4
_pools: dict[int, tuple[Ruleset, AnalysisProcesses]] = {}


def budget_of(settings: Settings) -> Budget:
    return Budget(settings.analysis_seconds, settings.analysis_memory_mb)


def configure(budget: Budget, processes: int) -> None:
    """Set the budget and the number of processes of pools made from now on."""
    global _budget, _processes
    with _lock:
        _budget, _processes = budget, max(1, processes)


def processes_for(rules: Ruleset) -> AnalysisProcesses:
    with _lock:
        known = _pools.get(id(rules))
        if known is None or known[0] is not rules:
            known = _pools[id(rules)] = (rules, AnalysisProcesses(rules, _budget, _processes))
        return known[1]


def close_all() -> None:
    """Kill every analysis process (an analysis under way raises AnalysisStopped); the next
    file starts new ones."""
    with _lock:
        pools = [pool for _rules, pool in _pools.values()]
        _pools.clear()
    for pool in pools:
        pool.close()
