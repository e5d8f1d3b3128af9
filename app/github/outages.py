"""Which failures of a GitHub request are GitHub being unavailable for a while (worth trying the
job again later) rather than an answer: a 5xx status, a timeout, a connection that could not be
made or was lost. A 4xx is an answer (trying again gives the same), and a spent quota is a rate
limit (app/github/rate_limit.py), not an outage."""

from __future__ import annotations

import httpx
from githubkit.exception import RateLimitExceeded, RequestError, RequestFailed


def is_outage(exc: BaseException) -> bool:
    """True when `exc` (or the error it wraps) says GitHub could not answer just now."""
    if isinstance(exc, RateLimitExceeded):
        return False
    if isinstance(exc, RequestFailed):
        return exc.response.status_code >= 500
    if isinstance(exc, RequestError):  # githubkit's wrapper of a transport error or a timeout
        return isinstance(exc.exc, httpx.TransportError)
    if isinstance(exc, httpx.HTTPStatusError):  # a streamed download (the tarball)
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def describe(exc: BaseException) -> str:
    """What went wrong, for the delivery's error and the check run's summary (no URL query, no
    header: nothing secret)."""
    if isinstance(exc, RequestFailed):
        request = exc.request
        return f"GitHub answered {exc.response.status_code} to {request.method} {request.url.path}"
    inner = exc.exc if isinstance(exc, RequestError) else exc
    if isinstance(inner, httpx.TransportError):
        try:
            where = f" on {inner.request.method} {inner.request.url.path}"
        except RuntimeError:  # an error raised before a request was attached
            where = ""
        return f"no answer from GitHub{where} ({type(inner).__name__})"
    if isinstance(inner, httpx.HTTPStatusError):
        return f"GitHub answered {inner.response.status_code} to {inner.request.url.path}"
    return f"{type(exc).__name__}: {exc}"
