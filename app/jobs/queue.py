"""The queues that run stored deliveries, and what every backend promises.

Both backends take a delivery id (the payload stays in the `deliveries` table) and the
delivery's lock (`job_lock`): deliveries with the same lock run one at a time, in the order they
were submitted, so the newest push to a branch is always judged last; deliveries with different
locks run in parallel up to the concurrency bound. Superseding (an older push that has not
published yet gives way to a newer one) happens inside the job, against the database.

- `InlineQueue` (`STOPSHIP_QUEUE=inline`): in-process asyncio tasks. At start it picks up every
  delivery left accepted (or running) by the previous process; `drain()` lets running jobs finish
  on SIGTERM.
- `ProcrastinateQueue` (`STOPSHIP_QUEUE=procrastinate`, app/jobs/procrastinate_queue.py): jobs
  in PostgreSQL, run by any number of `stopship worker` processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github.events import Event, MalformedDelivery, parse_stored
from app.jobs.attempts import run_admitted
from app.jobs.retries import RETRY_EVERY, release_due
from app.jobs.subject import job_subject
from app.store.models import Delivery

log = structlog.get_logger()
Processor = Callable[[async_sessionmaker[AsyncSession], str], Awaitable[str]]


class DeliveryQueue(Protocol):
    async def open(self) -> None:
        """Connect whatever the backend needs (before the first `submit`)."""

    async def submit(self, delivery_id: str, lock: str) -> None:
        """Queue a stored delivery; returns at once, never waiting for the job to run."""

    async def depth(self) -> int:
        """Deliveries queued or running (the `stopship_queue_depth` gauge)."""

    async def resume(self) -> int:
        """Queue again the deliveries a stopped process left unfinished; returns how many."""

    async def drain(self) -> None:
        """Wait for the jobs running in this process (SIGTERM, tests)."""

    async def close(self) -> None:
        """Release connections (after `drain`)."""


def job_lock(delivery_id: str, event: Event) -> str:
    """The lock of a delivery: its subject's (repository and branch, pull request, commit…), or
    one of its own, so that even a delivery queued twice never runs twice at once."""
    return job_subject(event).lock or f"delivery:{delivery_id}"


async def unfinished_deliveries(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str]]:
    """(delivery id, lock) of every delivery accepted or running, oldest first."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.id, Delivery.event, Delivery.payload)
                .where(Delivery.status.in_(["accepted", "running"]))
                .order_by(Delivery.received_at, Delivery.id)
            )
        ).all()
    return [(row.id, stored_job_lock(row.id, row.event, row.payload)) for row in rows]


def stored_job_lock(delivery_id: str, event: str, raw_payload: str) -> str:
    """`job_lock` of a delivery as stored (its payload as the JSON text GitHub sent); a payload
    that no longer parses runs under a lock of its own (its job records why it fails)."""
    try:
        return job_lock(delivery_id, parse_stored(event, raw_payload))
    except MalformedDelivery:
        return f"delivery:{delivery_id}"


class InlineQueue:
    """Deliveries as asyncio tasks of this process: one at a time per lock (FIFO), at most
    `concurrency` at once overall. A job waiting for its lock does not hold a concurrency slot."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], processor: Processor, concurrency: int
    ) -> None:
        self._sessions = sessions
        self._processor = processor
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: set[str] = set()
        # lock -> (its asyncio.Lock, how many queued jobs hold or wait for it)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._retrier: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._retrier = asyncio.create_task(self._retry_periodically(), name="retry-due")

    async def close(self) -> None:
        if self._retrier is not None:
            self._retrier.cancel()
            await asyncio.gather(self._retrier, return_exceptions=True)
            self._retrier = None

    async def depth(self) -> int:
        return len(self._queued)

    async def retry_due(self) -> int:
        """Queue the rate-limited deliveries whose retry time has come; returns how many."""
        due = await release_due(self._sessions)
        for delivery_id, event, payload in due:
            await self.submit(delivery_id, stored_job_lock(delivery_id, event, payload))
        return len(due)

    async def _retry_periodically(self) -> None:
        while True:
            try:
                await self.retry_due()
            except Exception:  # the database may be away for a moment; try again later
                log.exception("could not queue rate-limited deliveries")
            await asyncio.sleep(RETRY_EVERY)

    async def submit(self, delivery_id: str, lock: str) -> None:
        if delivery_id in self._queued:
            return
        self._queued.add(delivery_id)
        # take the lock's place in line now, in submission order
        mutex, users = self._locks.get(lock) or (asyncio.Lock(), 0)
        self._locks[lock] = (mutex, users + 1)
        task = asyncio.create_task(self._run(delivery_id, lock, mutex), name=f"delivery-{lock}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, delivery_id: str, lock: str, mutex: asyncio.Lock) -> None:
        try:
            async with mutex, self._slots:
                await run_admitted(self._sessions, self._processor, delivery_id)
        except Exception:
            log.exception("delivery crashed", delivery_id=delivery_id)
        finally:
            self._queued.discard(delivery_id)
            _, users = self._locks[lock]
            if users == 1:
                del self._locks[lock]
            else:
                self._locks[lock] = (mutex, users - 1)

    async def resume(self) -> int:
        unfinished = await unfinished_deliveries(self._sessions)
        for delivery_id, lock in unfinished:
            await self.submit(delivery_id, lock)
        return len(unfinished)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
