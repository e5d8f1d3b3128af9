"""Deliveries that GitHub's rate limit stopped (`rate_limited`, `retry_at` = when the quota is
back) run again once that time has come, instead of waiting for someone to press Re-run; so do
deliveries a GitHub outage stopped (`retrying`: a 5xx, a timeout, a lost connection), with a
back-off that doubles from OUTAGE_FIRST_RETRY up to OUTAGE_MAX_RETRY, until OUTAGE_DEADLINE after
the outage first stopped them (`failing_since`): then `after_outage` says to give up.

`release_due` puts them back to `accepted` with a fresh attempt count (the attempt bound is for
workers that died mid-job, not for a spent quota or an outage) and returns them for the queue.
The inline queue calls it every RETRY_EVERY seconds; procrastinate's workers in their recovery,
every minute. A newer push in the meantime supersedes them as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import Delivery

log = structlog.get_logger()
RETRY_EVERY = 60.0
WAITING = ("rate_limited", "retrying")  # statuses run again at `retry_at`
OUTAGE_FIRST_RETRY = timedelta(seconds=30)
OUTAGE_MAX_RETRY = timedelta(minutes=10)
OUTAGE_DEADLINE = timedelta(hours=1)


@dataclass(frozen=True)
class OutageRetry:
    """When to try a delivery a GitHub outage stopped again (None: give up now), and since
    when the outage has been stopping it."""

    retry_at: datetime | None
    failing_since: datetime


def after_outage(failing_since: datetime | None, now: datetime) -> OutageRetry:
    """The next try of a delivery an outage stopped at `now`: after as long as it has been
    failing (so the wait doubles), within [OUTAGE_FIRST_RETRY, OUTAGE_MAX_RETRY], never past
    the deadline; no try once the deadline has passed."""
    since = failing_since or now
    if since.tzinfo is None:  # SQLite gives naive UTC datetimes back
        since = since.replace(tzinfo=UTC)
    deadline = since + OUTAGE_DEADLINE
    if now >= deadline:
        return OutageRetry(None, since)
    wait = min(max(now - since, OUTAGE_FIRST_RETRY), OUTAGE_MAX_RETRY)
    return OutageRetry(min(now + wait, deadline), since)


async def release_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """(delivery id, event, stored payload) of the deliveries rate-limited or stopped by an
    outage that are due again, oldest first, set back to `accepted`."""
    due_by = now or datetime.now(UTC)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.id, Delivery.event, Delivery.payload)
                .where(Delivery.status.in_(WAITING), Delivery.retry_at <= due_by)
                .order_by(Delivery.received_at, Delivery.id)
                .with_for_update(skip_locked=True)  # PostgreSQL: one worker releases each
            )
        ).all()
        if rows:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_([r.id for r in rows]), Delivery.status.in_(WAITING))
                .values(status="accepted", attempts=0, retry_at=None, error=None)
            )
        await session.commit()
    if rows:
        log.info("deliveries due again", count=len(rows))
    return [(r.id, r.event, r.payload) for r in rows]
