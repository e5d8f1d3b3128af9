"""Which failed GitHub requests are an outage (tried again later) and which are an answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.response import Response

from app.github.outages import describe, is_outage
from app.github.rate_limit import RateLimitExhausted

REQUEST = httpx.Request("GET", "https://api.github.com/repos/octo/shop/git/trees/abc?recursive=1")


def failed(status: int) -> RequestFailed:
    return RequestFailed(Response(httpx.Response(status, request=REQUEST), Any))


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (failed(500), True),
        (failed(502), True),
        (failed(503), True),
        (failed(504), True),
        (RequestTimeout(httpx.ReadTimeout("timed out", request=REQUEST)), True),
        (RequestError(httpx.ConnectError("refused", request=REQUEST)), True),
        (RequestError(httpx.RemoteProtocolError("closed", request=REQUEST)), True),
        (httpx.ReadError("reset", request=REQUEST), True),  # a streamed download
        (failed(404), False),
        (failed(422), False),
        (failed(401), False),
        (
            PrimaryRateLimitExceeded(
                Response(httpx.Response(403, request=REQUEST), Any), timedelta(hours=1)
            ),
            False,
        ),
        (RateLimitExhausted(datetime(2026, 12, 3, tzinfo=UTC)), False),
        (ValueError("a bug"), False),
    ],
)
def test_outages_are_5xx_timeouts_and_lost_connections(exc: BaseException, outage: bool) -> None:
    assert is_outage(exc) is outage


def test_the_description_names_the_status_and_path_never_the_query() -> None:
    assert describe(failed(502)) == "GitHub answered 502 to GET /repos/octo/shop/git/trees/abc"
    timeout = RequestTimeout(httpx.ReadTimeout("timed out", request=REQUEST))
    assert describe(timeout) == (
        "no answer from GitHub on GET /repos/octo/shop/git/trees/abc (ReadTimeout)"
    )
