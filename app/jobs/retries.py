"""Deliveries that GitHub's rate limit stopped (`rate_limited`, `retry_at` = when the quota is
back) run again once that time has come, instead of waiting for someone to press Re-run.

`release_due` puts them back to `accepted` with a fresh attempt count (the attempt bound is for
workers that died mid-job, not for a spent quota) and returns them for the queue. The inline
queue calls it every RETRY_EVERY seconds; procrastinate's workers in their recovery, every
minute. A newer push in the meantime supersedes them as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import Delivery

log = structlog.get_logger()
RETRY_EVERY = 60.0


async def release_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """(delivery id, event, stored payload) of the rate-limited deliveries due again, oldest
    first, set back to `accepted`."""
    due_by = now or datetime.now(UTC)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.id, Delivery.event, Delivery.payload)
                .where(Delivery.status == "rate_limited", Delivery.retry_at <= due_by)
                .order_by(Delivery.received_at, Delivery.id)
                .with_for_update(skip_locked=True)  # PostgreSQL: one worker releases each
            )
        ).all()
        if rows:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_([r.id for r in rows]), Delivery.status == "rate_limited")
                .values(status="accepted", attempts=0, retry_at=None, error=None)
            )
        await session.commit()
    if rows:
        log.info("rate-limited deliveries due again", count=len(rows))
    return [(r.id, r.event, r.payload) for r in rows]
