"""The inline queue: one job at a time per lock, in submission order; different locks in
parallel up to the concurrency bound (a job waiting for its lock holds no slot); deliveries whose
attempts are spent are recorded as failed, not run again. Synchronised on events, not sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github.events import parse_event
from app.jobs.attempts import MAX_ATTEMPTS
from app.jobs.handlers import process
from app.jobs.queue import InlineQueue, job_lock
from app.store.db import make_engine, make_sessions
from app.store.migrate import upgrade
from app.store.models import Delivery

DEADLINE = 10.0


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    upgrade(url)
    return url


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(sqlite_url)
    yield make_sessions(engine)
    await engine.dispose()


async def store(sessions: async_sessionmaker[AsyncSession], *ids: str, **fields: object) -> None:
    async with sessions() as session:
        for delivery_id in ids:
            session.add(
                Delivery(id=delivery_id, event="ping", payload="{}", status="accepted", **fields)
            )
        await session.commit()


class Gate:
    """A processor whose jobs start, then wait until the test releases them one by one."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.started: dict[str, asyncio.Event] = {}
        self.release: dict[str, asyncio.Event] = {}

    def _events(self, delivery_id: str) -> tuple[asyncio.Event, asyncio.Event]:
        started = self.started.setdefault(delivery_id, asyncio.Event())
        return started, self.release.setdefault(delivery_id, asyncio.Event())

    async def __call__(self, sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str:
        started, release = self._events(delivery_id)
        self.log.append(f"start {delivery_id}")
        started.set()
        await release.wait()
        self.log.append(f"end {delivery_id}")
        return await process(sessions, delivery_id)

    async def until_started(self, delivery_id: str) -> None:
        await asyncio.wait_for(self._events(delivery_id)[0].wait(), DEADLINE)

    def let_finish(self, delivery_id: str) -> None:
        self._events(delivery_id)[1].set()


async def test_jobs_with_one_lock_run_one_at_a_time_in_order_others_in_parallel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(sessions, "a1", "a2", "a3", "b1")
    gate = Gate()
    queue = InlineQueue(sessions, gate, concurrency=2)
    for delivery_id, lock in [("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B")]:
        await queue.submit(delivery_id, lock)
    assert await queue.depth() == 4

    # b1 runs beside a1: a2 and a3, waiting for lock A, hold none of the two slots
    await gate.until_started("a1")
    await gate.until_started("b1")
    assert "start a2" not in gate.log and "start a3" not in gate.log

    gate.let_finish("b1")
    gate.let_finish("a1")
    await gate.until_started("a2")
    gate.let_finish("a2")
    await gate.until_started("a3")
    gate.let_finish("a3")
    await queue.drain()

    a_events = [entry for entry in gate.log if entry.endswith(("a1", "a2", "a3"))]
    assert a_events == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
    assert await queue.depth() == 0


async def test_the_concurrency_bound_holds_across_locks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(sessions, "x", "y", "z")
    gate = Gate()
    queue = InlineQueue(sessions, gate, concurrency=2)
    for delivery_id in ("x", "y", "z"):
        await queue.submit(delivery_id, f"lock-{delivery_id}")
    await gate.until_started("x")
    await gate.until_started("y")
    assert "start z" not in gate.log
    gate.let_finish("x")
    await gate.until_started("z")
    gate.let_finish("y")
    gate.let_finish("z")
    await queue.drain()
    assert sorted(e for e in gate.log if e.startswith("end")) == ["end x", "end y", "end z"]


async def test_a_delivery_submitted_twice_runs_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(sessions, "twice")
    gate = Gate()
    queue = InlineQueue(sessions, gate, concurrency=2)
    await queue.submit("twice", "L")
    await queue.submit("twice", "L")
    gate.let_finish("twice")
    await queue.drain()
    assert gate.log == ["start twice", "end twice"]


async def test_a_delivery_whose_attempts_are_spent_is_failed_not_run_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # the process running it stopped MAX_ATTEMPTS times (say, out of memory on a huge push)
    await store(sessions, "crashy", attempts=MAX_ATTEMPTS)
    async with sessions() as session:
        row = await session.get(Delivery, "crashy")
        assert row is not None
        row.status = "running"
        await session.commit()
    gate = Gate()
    queue = InlineQueue(sessions, gate, concurrency=2)
    assert await queue.resume() == 1
    await queue.drain()
    assert gate.log == []
    async with sessions() as session:
        row = await session.get(Delivery, "crashy")
    assert row is not None
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.error is not None and f"gave up after {MAX_ATTEMPTS} attempts" in row.error


def test_a_delivery_without_a_subject_gets_a_lock_of_its_own() -> None:
    assert job_lock("d-1", parse_event("ping", {})) == "delivery:d-1"
    push = {"repository": {"id": 7, "full_name": "o/r"}, "installation": {"id": 1}}
    assert job_lock("d-2", parse_event("push", {**push, "ref": "refs/heads/main"})) == (
        "7:ref:refs/heads/main"
    )
