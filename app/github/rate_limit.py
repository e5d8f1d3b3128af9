"""GitHub's rate limits, honoured across a whole job with a bounded wait.

A job runs inside `job_budget()`. When GitHub says the quota is spent (a 403 or 429 with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or `Retry-After`, or a successful response
whose `x-ratelimit-remaining` is 0), the budget records until when; every later request of the job
(its concurrent blob fetches too) waits for that time before it is sent, instead of being refused
one by one. Waits add up (overlapping waits count once); when honouring one would take the job
past its budget, the request is not sent and `RateLimitExhausted` says until when the quota is
spent, so the job can end cleanly and be run again after that time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from githubkit.exception import RateLimitExceeded, RequestError

JOB_WAIT_LIMIT = timedelta(seconds=120)


class RateLimitExhausted(Exception):
    """The installation's quota is spent until `until`, later than the job may wait."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"GitHub API rate limit exhausted until {until:%Y-%m-%d %H:%M:%S} UTC")
        self.until = until


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RateBudget:
    limit: timedelta = JOB_WAIT_LIMIT
    waited: timedelta = timedelta()
    blocked_until: datetime | None = None
    exhausted_until: datetime | None = None

    def block(self, until: datetime) -> bool:
        """GitHub refuses requests until `until`: wait for it if the budget allows (True), else
        remember that the job cannot go on (False)."""
        now = _now()
        start = max(self.blocked_until or now, now)
        extra = max(until - start, timedelta())
        if self.waited + extra > self.limit:
            self.exhausted_until = max(until, self.exhausted_until or until)
            return False
        self.waited += extra
        self.blocked_until = max(start, until)
        return True

    async def before_request(self) -> None:
        now = _now()
        if self.exhausted_until is not None and self.exhausted_until > now:
            raise RateLimitExhausted(self.exhausted_until)
        if self.blocked_until is not None and self.blocked_until > now:
            await asyncio.sleep((self.blocked_until - now).total_seconds())


_budget: ContextVar[RateBudget | None] = ContextVar("stopship_rate_budget", default=None)


def current_budget() -> RateBudget | None:
    return _budget.get()


@contextmanager
def job_budget(limit: timedelta = JOB_WAIT_LIMIT) -> Iterator[RateBudget]:
    """Every GitHub request made inside (tasks started inside included) shares one budget."""
    budget = RateBudget(limit)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def reset_time(headers: httpx.Headers) -> datetime | None:
    """When the quota comes back, if these response headers say it is spent."""
    if headers.get("x-ratelimit-remaining") != "0":
        return None
    reset = headers.get("x-ratelimit-reset", "")
    if not reset.isdigit():
        return None
    return datetime.fromtimestamp(int(reset), tz=UTC)


async def before_request(request: httpx.Request) -> None:
    """httpx request hook: wait while the job's quota is known to be spent, or give up."""
    budget = _budget.get()
    if budget is not None:
        await budget.before_request()


async def after_response(response: httpx.Response) -> None:
    """httpx response hook: a response that spends the last request of the quota blocks the
    following ones until the reset."""
    budget = _budget.get()
    until = reset_time(response.headers)
    if budget is not None and until is not None:
        budget.block(until)


def exhausted_until(exc: BaseException) -> datetime | None:
    """When the quota that made this exception comes back, or None if it is no rate limit."""
    if isinstance(exc, RateLimitExhausted):
        return exc.until
    if isinstance(exc, RequestError) and isinstance(exc.exc, RateLimitExhausted):
        return exc.exc.until
    if isinstance(exc, RateLimitExceeded):
        return _now() + exc.retry_after
    return None
