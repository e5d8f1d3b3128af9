"""Deliveries GitHub's rate limit stopped are run again once the quota is back, not left waiting
for someone to press Re-run; those whose retry time is still ahead stay put. Deliveries a GitHub
outage stopped are run again after a wait that doubles, until a deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.handlers import process
from app.jobs.queue import InlineQueue
from app.jobs.retries import OUTAGE_DEADLINE, OUTAGE_FIRST_RETRY, OUTAGE_MAX_RETRY, after_outage
from app.store.models import Delivery
from tests.jobs.test_queue import sessions, sqlite_url, store

__all__ = ["sessions", "sqlite_url"]


async def rate_limited(
    sessions: async_sessionmaker[AsyncSession], delivery_id: str, retry_at: datetime, attempts: int
) -> None:
    await store(sessions, delivery_id)
    async with sessions() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        row.status, row.retry_at, row.attempts = "rate_limited", retry_at, attempts
        row.error = "GitHub API rate limit"
        await session.commit()


async def rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, int]]:
    async with sessions() as session:
        return {d.id: (d.status, d.attempts) for d in await session.scalars(select(Delivery))}


async def test_the_inline_queue_runs_rate_limited_deliveries_once_their_time_has_come(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    await rate_limited(sessions, "due", now - timedelta(seconds=1), attempts=1)
    # a delivery rate limited on each of its runs so far still gets its fresh try
    await rate_limited(sessions, "due-again", now - timedelta(minutes=5), attempts=3)
    await rate_limited(sessions, "later", now + timedelta(minutes=30), attempts=1)
    queue = InlineQueue(sessions, process, concurrency=2)
    assert await queue.retry_due() == 2
    await queue.drain()
    assert await rows(sessions) == {
        "due": ("done", 1),
        "due-again": ("done", 1),
        "later": ("rate_limited", 1),
    }
    assert await queue.retry_due() == 0  # nothing is released twice


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failing_for", "wait"),
    [
        (None, OUTAGE_FIRST_RETRY),  # the first failure
        (timedelta(seconds=10), OUTAGE_FIRST_RETRY),
        (timedelta(seconds=45), timedelta(seconds=45)),  # as long as it has been failing
        (timedelta(minutes=3), timedelta(minutes=3)),
        (timedelta(minutes=30), OUTAGE_MAX_RETRY),
        (OUTAGE_DEADLINE - timedelta(minutes=2), timedelta(minutes=2)),  # the last try: then
    ],
)
def test_an_outage_is_tried_again_after_a_doubling_wait_up_to_the_deadline(
    failing_for: timedelta | None, wait: timedelta
) -> None:
    since = None if failing_for is None else NOW - failing_for
    retry = after_outage(since, NOW)
    assert retry.failing_since == (since or NOW)
    assert retry.retry_at == NOW + wait


def test_an_outage_past_the_deadline_is_given_up() -> None:
    assert after_outage(NOW - OUTAGE_DEADLINE, NOW).retry_at is None
    naive = (NOW - OUTAGE_DEADLINE - timedelta(seconds=1)).replace(tzinfo=None)  # from SQLite
    assert after_outage(naive, NOW).retry_at is None


async def test_deliveries_an_outage_stopped_are_run_again_once_due(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    await rate_limited(sessions, "due", now - timedelta(seconds=1), attempts=1)
    await rate_limited(sessions, "later", now + timedelta(minutes=5), attempts=1)
    async with sessions() as session:
        for row in await session.scalars(select(Delivery)):
            row.status, row.failing_since = "retrying", now - timedelta(minutes=1)
        await session.commit()
    queue = InlineQueue(sessions, process, concurrency=2)
    assert await queue.retry_due() == 1
    await queue.drain()
    assert await rows(sessions) == {"due": ("done", 1), "later": ("retrying", 1)}
