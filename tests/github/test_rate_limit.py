"""A job's rate-limit budget: overlapping waits count once, a wait past the budget is refused and
every later request of the job is then refused before it is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.github.rate_limit import RateBudget, RateLimitExhausted, reset_time


def test_overlapping_waits_count_once_and_a_long_one_is_refused() -> None:
    budget = RateBudget(limit=timedelta(seconds=10))
    now = datetime.now(UTC)
    assert budget.block(now + timedelta(seconds=6))
    assert budget.block(now + timedelta(seconds=6))  # the same reset, seen by another request
    assert budget.waited <= timedelta(seconds=7)
    assert not budget.block(now + timedelta(hours=1))
    assert budget.exhausted_until == now + timedelta(hours=1)


async def test_after_a_refused_wait_no_request_is_sent() -> None:
    budget = RateBudget(limit=timedelta(seconds=1))
    until = datetime.now(UTC) + timedelta(hours=1)
    assert not budget.block(until)
    with pytest.raises(RateLimitExhausted) as raised:
        await budget.before_request()
    assert raised.value.until == until


def test_reset_time_only_when_the_quota_is_spent() -> None:
    spent = httpx.Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"})
    assert reset_time(spent) == datetime.fromtimestamp(1700000000, tz=UTC)
    assert reset_time(httpx.Headers({"x-ratelimit-remaining": "12"})) is None
