"""Prometheus metrics of one process: webhook deliveries, queue depth, commit analyses, GitHub API
calls by status and file-result cache look-ups.

Each app and each worker owns a registry (tests run several apps in one process and must not
share counters). Jobs record into the registry of whoever runs them: the processor sets it as
the current one (`recording`) for the job's task, and the job code and the GitHub client's
response hook record through the functions below, which do nothing outside a job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from app import __version__


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        # process_* (CPU, memory, open files, start time) and python_info, as the default
        # registry would have them
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.build_info = Gauge(
            "stopship_build_info",
            "The running stopship version (always 1)",
            ["version"],
            registry=self.registry,
        )
        self.build_info.labels(__version__).set(1)
        self.request_seconds = Histogram(
            "stopship_http_request_duration_seconds",
            "HTTP requests by route template (never the raw path) and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "stopship_webhook_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.analysis_seconds = Histogram(
            "stopship_analysis_duration_seconds",
            "Time to judge one commit, from the check run's creation to its completion",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.github_calls = Counter(
            "stopship_github_api_calls",
            "GitHub API responses by HTTP status",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "stopship_queue_depth", "Accepted deliveries not finished", registry=self.registry
        )
        self.cache_lookups = Counter(
            "stopship_file_cache_lookups",
            "Files of judged commits whose result came from the cache (hit) or was computed (miss)",
            ["outcome"],
            registry=self.registry,
        )


_current: ContextVar[Metrics | None] = ContextVar("stopship_metrics", default=None)


@contextmanager
def recording(metrics: Metrics) -> Iterator[None]:
    """Make `metrics` the registry that the code run in this context records into."""
    token = _current.set(metrics)
    try:
        yield
    finally:
        _current.reset(token)


async def github_response(response: httpx.Response) -> None:
    """httpx response hook of the GitHub clients: one call counted by its status."""
    metrics = _current.get()
    if metrics is not None:
        metrics.github_calls.labels(str(response.status_code)).inc()


def commit_judged(seconds: float, analysed: int, cached: int) -> None:
    """A commit's check run completed: how long it took, how many files were analysed afresh
    and how many results came from the cache."""
    metrics = _current.get()
    if metrics is not None:
        metrics.analysis_seconds.observe(seconds)
        metrics.cache_lookups.labels("miss").inc(analysed)
        metrics.cache_lookups.labels("hit").inc(cached)
