"""Connection limits uvicorn lacks: a deadline on each request's head (uvicorn waits forever for
a request line and headers, so slow-loris connections pile up until the process runs out of
file descriptors), and a connection beyond `--limit-concurrency` answered 503 and closed as soon
as it is accepted instead of held until it sends a request.

`ServerConfig` carries the head timeout to every worker process; `protocol_class` picks the
httptools parser when it is installed, h11 otherwise."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from uvicorn import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

SHED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 19\r\n\r\nService Unavailable"
)


class ServerConfig(Config):
    """uvicorn's Config and the seconds a client has to send a request line and its headers."""

    def __init__(self, *args: Any, header_timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout


class HeadDeadline(asyncio.Protocol):
    """Mixed into uvicorn's HTTP protocols: from the first byte of a request (or from the
    connection's start) the head must be complete within `header_timeout`, else the connection
    is closed. Completion is seen as uvicorn starting a new request cycle."""

    config: Config
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    connections: set[Any]
    limit_concurrency: int | None
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None
    _head_cycle: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            self.transport.write(SHED)
            self.transport.close()
            return
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        between_requests = self.cycle is None or self.cycle.response_complete
        if between_requests and (self._head_timer is None or self._head_cycle is not self.cycle):
            self._arm_head_deadline()  # the first byte of a new request's head
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_cycle = self.cycle
        timeout = getattr(self.config, "header_timeout", 10.0)
        self._head_timer = self.loop.call_later(timeout, self._head_overdue)

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.cycle is self._head_cycle and not self.transport.is_closing():
            self.transport.close()  # no request began in time: not even a 408 is owed


class BoundedH11Protocol(HeadDeadline, H11Protocol):
    pass


def protocol_class() -> str:
    """The import path of the bounded protocol to run (a string: it crosses to worker
    processes)."""
    if importlib.util.find_spec("httptools") is not None:
        return "app.web.connections_httptools:BoundedHttpToolsProtocol"
    return "app.web.connections:BoundedH11Protocol"
