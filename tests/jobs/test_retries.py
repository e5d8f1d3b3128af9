"""Deliveries GitHub's rate limit stopped are run again once the quota is back, not left waiting
for someone to press Re-run; those whose retry time is still ahead stay put."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.handlers import process
from app.jobs.queue import InlineQueue
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
