"""What wraps every route: a request id (`X-Request-ID`, kept when the caller sends a sane
token, else a new UUID4) bound to the request's log lines, security headers suited to a JSON-only
API, and a structured 500 that names the request id and never the exception."""

from __future__ import annotations

import re

import structlog
from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from secure import (
    CacheControl,
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureASGIMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

# Nothing here is ever rendered by a browser: deny everything a page could do.
SECURITY_HEADERS = Secure(
    csp=ContentSecurityPolicy().default_src("'none'").frame_ancestors("'none'"),
    hsts=StrictTransportSecurity().max_age(63072000).include_subdomains(),
    xfo=XFrameOptions().deny(),
    xcto=XContentTypeOptions(),
    referrer=ReferrerPolicy().no_referrer(),
    cache=CacheControl().no_store(),
)


# a client's id is kept when it is a plain token (UUIDs, trace ids, load balancer ids): it lands
# in every log line of the request and in the answer's header, so nothing else gets through
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def sane_request_id(value: str) -> bool:
    """Whether a client's `X-Request-ID` is kept; otherwise a new UUID4 replaces it."""
    return _SANE_REQUEST_ID.fullmatch(value) is not None


class ErrorsAsJSON:
    """Innermost middleware: an unexpected exception becomes `{"error", "request_id"}` with a
    500, logged with its traceback. (Starlette answers exception handlers for `Exception` from
    its outermost middleware, where the request id and security headers would be missing.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:  # too late to answer: let the server close the connection
                raise
            request_id = correlation_id.get()
            log.exception("request failed", path=scope.get("path"))
            answer = JSONResponse({"error": "internal error", "request_id": request_id}, 500)
            await answer(scope, receive, send)


class PublicCaching:
    """Outside the security headers (which say `no-store` for everything): a successful answer
    under one of `prefixes` (the readiness badge, public by design) may be cached `max_age`
    seconds by browsers and image proxies."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], max_age: int) -> None:
        self.app = app
        self.prefixes = prefixes
        self.value = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def caching_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                message = dict(message, headers=[*headers, (b"cache-control", self.value)])
            await send(message)

        await self.app(scope, receive, caching_send)


BADGE_PREFIX = "/badge/"
BADGE_MAX_AGE = 300


def harden(app: FastAPI) -> None:
    """Wrap every route. Added last is outermost: the id exists before anything else runs, and
    the headers go on every answer, errors included."""
    app.add_middleware(ErrorsAsJSON)
    app.add_middleware(SecureASGIMiddleware, secure=SECURITY_HEADERS)
    app.add_middleware(PublicCaching, prefixes=(BADGE_PREFIX,), max_age=BADGE_MAX_AGE)
    app.add_middleware(
        CorrelationIdMiddleware, header_name="X-Request-ID", validator=sane_request_id
    )
