"""structlog configuration: JSON lines in production, readable console output for development.
Secrets never reach a log call: settings hold them as SecretStr, and webhook bodies are not
logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import structlog
from asgi_correlation_id import correlation_id
from structlog.types import EventDict, WrappedLogger


def add_request_id(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The id of the HTTP request being served (X-Request-ID), on each of its log lines."""
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


def _severity(level: str) -> int:
    return logging.getLevelNamesMapping()[level.upper()]


def _renderer(fmt: str) -> structlog.types.Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def drop_color_message(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """uvicorn's records carry a copy of the message with terminal colour codes: not logged."""
    event.pop("color_message", None)
    return event


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    """Our lines, and every standard-library record that no library routes elsewhere (SQLAlchemy,
    alembic, httpx, warnings.warn through `py.warnings`), rendered as the same lines."""
    renderer = _renderer(fmt)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
    logging.captureWarnings(True)
    # warnings and errors only: at info, SQLAlchemy would log statements and httpx every URL
    route_library_logs("", fmt, max(level, "warning", key=_severity))


def route_library_logs(logger_name: str, fmt: str = "json", level: str = "info") -> None:
    """Render a library's standard-library log records (procrastinate's, with their `extra`
    fields such as `action` and `job`) as the same structured lines as ours, on stderr
    (`logger_name` "": the root logger, which every other logger propagates to)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt)],
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                drop_color_message,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
            ],
        )
    )
    library = logging.getLogger(logger_name)
    library.handlers = [handler]
    library.setLevel(logging.getLevelNamesMapping()[level.upper()])
    library.propagate = not logger_name and library.propagate


class OncePer(logging.Filter):
    """Lets a message through at most once per `interval` seconds (per logger and the first
    line of its template); the next one let through carries `suppressed`, the count left out
    meanwhile. For messages a client can make a server repeat in a loop."""

    _MAX_KEYS = 1024

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        # the first line: asyncio puts the handle and the socket on the lines after it
        key = (record.name, str(record.msg).split("\n", 1)[0][:120])
        now = self.clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.interval:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if len(self._seen) >= self._MAX_KEYS:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if last is not None and last[1]:
            record.suppressed = last[1]
        return True


class Throttle:
    """For our own lines that a client can make us repeat (a refused webhook): `due(key)` is
    None while the last line of that key is under `interval` seconds old, else the count of
    lines left out since it (0 the first time)."""

    _MAX_KEYS = 1024

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._seen: dict[str, tuple[float, int]] = {}

    def due(self, key: str) -> int | None:
        now = self.clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.interval:
            self._seen[key] = (last[0], last[1] + 1)
            return None
        if len(self._seen) >= self._MAX_KEYS:
            self._seen.clear()
        self._seen[key] = (now, 0)
        return last[1] if last is not None else 0
