"""`stopship serve`: validate settings, apply the migrations first with `--migrate` (one
process owns the database: the single-container install), refuse an unmigrated database (or one
without the procrastinate schema when that queue is configured), run uvicorn (which drains
in-flight requests on SIGTERM; the app's lifespan then drains running jobs).

Connections are bounded: `limit_concurrency` connections at once per process (beyond it a
connection is answered 503 and closed at once), `header_timeout` seconds to send a request's
head, `timeout_keep_alive` seconds idle between requests; the body's deadline is the app's
(STOPSHIP_WEBHOOK_READ_TIMEOUT). Several worker processes share the socket (`workers`)."""

from __future__ import annotations

import logging
import resource
import sys
from dataclasses import dataclass

from fastapi import FastAPI

from app import tracing
from app.jobs.startup import database_problem
from app.logs import OncePer, configure_logging, route_library_logs
from app.settings import Settings, SettingsError, load_settings
from app.web.connections import ServerConfig, protocol_class

# the descriptors a process needs besides its client connections (database pool, logs, files)
_SPARE_DESCRIPTORS = 64


@dataclass(frozen=True)
class ServerLimits:
    workers: int = 1
    limit_concurrency: int = 512
    timeout_keep_alive: int = 5
    header_timeout: float = 10.0


def _say(message: str) -> None:
    sys.stderr.write(f"stopship: {message}\n")


def configure_server_logging(settings: Settings) -> None:
    """Our structured lines for our logs, uvicorn's (access lines included) and asyncio's; an
    error message repeated (an accept() failing while descriptors run out, a connection over the
    limit) at most once per 10 seconds per process, with the count of those left out."""
    configure_logging(settings.log_format, settings.log_level)
    tracing.start_tracing(tracing.endpoint())
    for name in ("uvicorn.error", "asyncio"):
        route_library_logs(name, settings.log_format, settings.log_level)
        logging.getLogger(name).addFilter(OncePer(10.0))
    route_library_logs("uvicorn.access", settings.log_format, settings.log_level)


def app_from_environment() -> FastAPI:
    """The app of one worker process (`--workers` N > 1), from the same environment."""
    from app.web.app import create_app

    settings = load_settings()
    configure_server_logging(settings)
    return create_app(settings)


def _descriptor_problem(limits: ServerLimits) -> str | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = limits.limit_concurrency + _SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < needed:
        return (
            f"--limit-concurrency {limits.limit_concurrency} needs about {needed} file "
            f"descriptors, but this process may open {soft} (ulimit -n): raise the limit or "
            f"lower --limit-concurrency below {soft - _SPARE_DESCRIPTORS}"
        )
    return None


def run_server(
    host: str, port: int, limits: ServerLimits | None = None, *, migrate: bool = False
) -> int:
    limits = limits or ServerLimits()
    try:
        settings = load_settings()
        settings.require_for_serve()
    except SettingsError as exc:
        _say(str(exc))
        return 2
    configure_server_logging(settings)
    if migrate:
        from app.store.migrate import upgrade

        upgrade(settings.database_url)

    problem = database_problem(settings) or _descriptor_problem(limits)
    if problem is None and limits.workers > 1 and settings.queue == "inline":
        problem = (
            f"--workers {limits.workers} needs STOPSHIP_QUEUE=procrastinate: the inline queue "
            "runs jobs in the serving process, and one branch's jobs must run one at a time"
        )
    if problem is not None:
        _say(problem)
        return 2
    from uvicorn import Server
    from uvicorn.supervisors import Multiprocess

    from app.web.app import create_app

    several = limits.workers > 1
    config = ServerConfig(
        "app.web.serve:app_from_environment" if several else create_app(settings),
        factory=several,
        host=host,
        port=port,
        workers=limits.workers,
        http=protocol_class(),
        limit_concurrency=limits.limit_concurrency,
        timeout_keep_alive=limits.timeout_keep_alive,
        header_timeout=limits.header_timeout,
        timeout_graceful_shutdown=30,
        log_config=None,
    )
    if several:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return 0
    server = Server(config)
    server.run()
    return 0 if server.started else 1
