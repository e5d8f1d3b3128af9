"""Prometheus metrics of the service (one registry per app, so tests do not share counters)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.deliveries = Counter(
            "stopship_webhook_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.analysis_seconds = Histogram(
            "stopship_analysis_duration_seconds",
            "Time to judge one commit",
            registry=self.registry,
        )
        self.github_calls = Counter(
            "stopship_github_api_calls",
            "GitHub API calls by status",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "stopship_queue_depth", "Accepted deliveries not finished", registry=self.registry
        )
        self.cache_lookups = Counter(
            "stopship_file_cache_lookups",
            "File-result cache lookups",
            ["outcome"],
            registry=self.registry,
        )
