"""Times every HTTP request into `stopship_http_request_duration_seconds`, labelled by the route
template that answered it (`/badge/{owner}/{repo}.svg`, never the path a client chose: the
label set stays bounded) and the status sent."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"  # any path no route serves (404s, scans): one label for all of them


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    return path if isinstance(path, str) else UNMATCHED


class RequestTiming:
    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception before any answer is a 500 to the client
        started = time.perf_counter()

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, status_send)
        finally:
            self.histogram.labels(route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )
