"""The worker's HTTP port (`stopship worker --metrics-port`): Prometheus metrics at /metrics and a
health check at /healthz that proves the worker works, not merely that the process exists.

A heartbeat task runs in the worker's own event loop beside the job loop: every `INTERVAL` seconds
it makes a round trip to the queue's database and, when that answers in time, records the moment.
/healthz answers 200 while the last beat is younger than `MAX_AGE`, else 503. So a worker whose
event loop is blocked, whose job loop has ended, or that has lost its database fails its check
(Kubernetes' liveness probe then restarts it; the container HEALTHCHECK marks it unhealthy), and
a worker that has not yet beaten once is not reported healthy."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import make_wsgi_app

from app.metrics import Metrics

log = structlog.get_logger()

INTERVAL = 10.0  # seconds between two heartbeats
MAX_AGE = 60.0  # a heartbeat older than this: unhealthy (a few failed beats in a row)
HEALTH_PATH = "/healthz"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Heartbeat:
    """When the worker last proved it works (monotonic seconds; None: not yet)."""

    def __init__(self, max_age: float = MAX_AGE, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._last: float | None = None

    def beat(self) -> None:
        self._last = self._clock()

    def age(self) -> float | None:
        """Seconds since the last beat, None before the first."""
        return None if self._last is None else self._clock() - self._last

    def fresh(self) -> bool:
        age = self.age()
        return age is not None and age <= self.max_age


async def keep_beating(
    heartbeat: Heartbeat, probe: Callable[[], Awaitable[object]], interval: float = INTERVAL
) -> None:
    """Beat after each probe that succeeds within `interval`; runs until cancelled. A failed probe
    is logged (its type only: a driver's message may hold a connection string) and not counted."""
    while True:
        try:
            await asyncio.wait_for(probe(), timeout=interval)
        except Exception as exc:  # noqa: BLE001 - any failure just withholds the beat
            log.warning("worker heartbeat failed", error=type(exc).__name__)
        else:
            heartbeat.beat()
        await asyncio.sleep(interval)


def health_and_metrics_app(metrics: Metrics, heartbeat: Heartbeat | None) -> WSGIApp:
    """/healthz from `heartbeat` (when given); every other path serves the metrics."""
    metrics_app: WSGIApp = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if heartbeat is None or environ.get("PATH_INFO") != HEALTH_PATH:
            return metrics_app(environ, start_response)
        age = heartbeat.age()
        if heartbeat.fresh():
            status, body = "200 OK", f"ok: last heartbeat {age:.0f}s ago\n"
        elif age is None:
            status, body = "503 Service Unavailable", "no heartbeat yet\n"
        else:
            status, body = "503 Service Unavailable", f"last heartbeat {age:.0f}s ago\n"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [body.encode()]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds: not worth a log line each."""


def serve_health_and_metrics(
    metrics: Metrics, host: str, port: int, heartbeat: Heartbeat | None = None
) -> tuple[WSGIServer, int]:
    """Serve /metrics (and /healthz with a heartbeat) at http://host:port (0: any free port) from
    a daemon thread; returns the server (to shut down) and the bound port."""
    server = make_server(
        host,
        port,
        health_and_metrics_app(metrics, heartbeat),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    return server, server.server_port
