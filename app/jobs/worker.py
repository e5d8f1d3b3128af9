"""`stopship worker`: runs the procrastinate queue's jobs (`STOPSHIP_QUEUE=procrastinate`) with
the same `process()` as the inline queue. SIGTERM or SIGINT stops it gracefully: no new job
starts, running ones finish (up to `--shutdown-timeout`, if given), then it exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from wsgiref.simple_server import WSGIServer

import structlog
from sqlalchemy import text

from app import tracing
from app.jobs import analysis_pool
from app.jobs.backends import make_processor, make_redeliverer
from app.jobs.procrastinate_queue import ProcrastinateQueue
from app.jobs.queue import Processor
from app.jobs.startup import database_problem
from app.jobs.worker_health import (
    INTERVAL,
    Heartbeat,
    keep_beating,
    serve_health_and_metrics,
)
from app.logs import configure_logging, route_library_logs
from app.metrics import Metrics
from app.settings import Settings, SettingsError, load_settings
from app.store.db import libpq_conninfo, make_engine, make_sessions

log = structlog.get_logger()


def serve_metrics(
    metrics: Metrics, host: str, port: int, heartbeat: Heartbeat | None = None
) -> tuple[WSGIServer, int]:
    """Serve `metrics` for Prometheus at http://host:port/metrics (port 0: any free port), and
    /healthz from `heartbeat`, from a daemon thread; returns the server and the bound port."""
    return serve_health_and_metrics(metrics, host, port, heartbeat)


def run_worker(
    concurrency: int,
    shutdown_timeout: float | None,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> int:
    """The command: 0 after a graceful stop, 2 on a settings or database problem."""
    try:
        settings = load_settings()
        settings.require_for_worker()
    except SettingsError as exc:
        sys.stderr.write(f"stopship: {exc}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level)
    problem = database_problem(settings)
    if problem is not None:
        sys.stderr.write(f"stopship: {problem}\n")
        return 2
    route_library_logs("procrastinate", settings.log_format, settings.log_level)
    tracing.start_tracing(tracing.endpoint())
    metrics = Metrics()
    heartbeat = Heartbeat()
    server = None
    if metrics_port is not None:
        server, port = serve_metrics(metrics, metrics_host, metrics_port, heartbeat)
        log.info("metrics served", url=f"http://{metrics_host}:{port}/metrics", health="/healthz")
    try:
        asyncio.run(
            work(
                settings,
                concurrency,
                metrics=metrics,
                shutdown_timeout=shutdown_timeout,
                heartbeat=heartbeat,
            )
        )
    finally:
        if server is not None:
            server.shutdown()
        tracing.shutdown()
    return 0


async def work(
    settings: Settings,
    concurrency: int,
    *,
    processor: Processor | None = None,
    metrics: Metrics | None = None,
    install_signal_handlers: bool = True,
    shutdown_timeout: float | None = None,
    name: str = "worker",
    heartbeat: Heartbeat | None = None,
    heartbeat_interval: float = INTERVAL,
) -> None:
    """Run a worker in this event loop until it is stopped (a signal, or this task cancelled);
    with a `heartbeat`, beat it while the job loop runs and the database answers."""
    engine = make_engine(settings.database_url)
    tracing.instrument_engine(engine)
    sessions = make_sessions(engine)
    analysis_pool.configure(analysis_pool.budget_of(settings), concurrency)
    queue = ProcrastinateQueue(
        sessions,
        libpq_conninfo(settings.database_url),
        processor or make_processor(settings, metrics=metrics, sessions=sessions),
        pool_size=concurrency + 4,  # + fetching, heartbeats, abort polling, periodic defers
        redeliver=make_redeliverer(settings, sessions),
    )
    await queue.open()
    log.info("worker started", worker=name, concurrency=concurrency)
    beating: asyncio.Task[None] | None = None
    if heartbeat is not None:

        async def probe() -> None:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))

        beating = asyncio.create_task(keep_beating(heartbeat, probe, heartbeat_interval))
    try:
        await queue.run_worker(
            concurrency,
            install_signal_handlers=install_signal_handlers,
            shutdown_timeout=shutdown_timeout,
            name=name,
        )
    finally:
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await queue.close()
        await engine.dispose()
        analysis_pool.close_all()
        log.info("worker stopped", worker=name)
