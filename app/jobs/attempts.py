"""Whether a queued delivery still needs to run, and a bound on how often it is tried.

A job can be handed out twice: a worker died mid-job and its job was retried, or a delivery was
queued again by recovery while its first job was still on its way. Only a delivery still
`accepted` or `running` runs; and one whose job has already started MAX_ATTEMPTS times (each
time the process running it stopped before it finished) is recorded as failed, not retried
forever. A processor that can `abandon` a delivery (the App's: app/jobs/backends.py) is told
when it gives up on one, to complete the check run the stopped attempts left `in_progress`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import Delivery

log = structlog.get_logger()
MAX_ATTEMPTS = 3
RUNNABLE = frozenset({"accepted", "running"})


@runtime_checkable
class Abandons(Protocol):
    async def abandon(
        self, sessions: async_sessionmaker[AsyncSession], delivery_id: str, reason: str
    ) -> None:
        """Clean up after a delivery recorded as failed without running (its attempts spent)."""


async def admit(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    abandon: Abandons | None = None,
) -> bool:
    """True when the delivery should run now; records it as failed when its attempts are spent
    (then `abandon` is told)."""
    async with sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.status not in RUNNABLE:
            log.info(
                "delivery already handled",
                delivery_id=delivery_id,
                status=delivery.status if delivery else "missing",
            )
            return False
        if delivery.attempts < MAX_ATTEMPTS:
            return True
        delivery.status = "failed"
        reason = delivery.error = (
            f"gave up after {delivery.attempts} attempts: the process running it stopped "
            "before it finished each time"
        )
        delivery.finished_at = datetime.now(UTC)
        await session.commit()
        log.error("delivery abandoned", delivery_id=delivery_id, attempts=delivery.attempts)
    if abandon is not None:
        await abandon.abandon(sessions, delivery_id, reason)
    return False


async def run_admitted(
    sessions: async_sessionmaker[AsyncSession],
    processor: Callable[[async_sessionmaker[AsyncSession], str], Awaitable[str]],
    delivery_id: str,
) -> str:
    """Run the delivery through `processor` if `admit` lets it; returns its status."""
    with structlog.contextvars.bound_contextvars(delivery_id=delivery_id):
        abandon = processor if isinstance(processor, Abandons) else None
        if not await admit(sessions, delivery_id, abandon):
            return "skipped"
        return await processor(sessions, delivery_id)
