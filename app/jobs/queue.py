"""The inline queue: deliveries run in-process with bounded concurrency. At start it picks up
every delivery that was accepted (or running) but not finished when the process last stopped;
`drain()` lets running jobs finish on SIGTERM."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import Delivery

log = structlog.get_logger()
Processor = Callable[[async_sessionmaker[AsyncSession], str], Awaitable[str]]


class InlineQueue:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], processor: Processor, concurrency: int
    ) -> None:
        self._sessions = sessions
        self._processor = processor
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: set[str] = set()

    @property
    def depth(self) -> int:
        return len(self._queued)

    def submit(self, delivery_id: str) -> None:
        if delivery_id in self._queued:
            return
        self._queued.add(delivery_id)
        task = asyncio.create_task(self._run(delivery_id), name=f"delivery-{delivery_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, delivery_id: str) -> None:
        async with self._slots:
            try:
                await self._processor(self._sessions, delivery_id)
            except Exception:
                log.exception("delivery crashed", delivery=delivery_id)
            finally:
                self._queued.discard(delivery_id)

    async def resume(self) -> int:
        """Re-submit deliveries left unfinished by a previous process; returns how many."""
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(Delivery.id)
                    .where(Delivery.status.in_(["accepted", "running"]))
                    .order_by(Delivery.received_at)
                )
            )
        for delivery_id in ids:
            self.submit(delivery_id)
        return len(ids)

    async def drain(self) -> None:
        """Wait for every submitted job (used at shutdown and by tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
