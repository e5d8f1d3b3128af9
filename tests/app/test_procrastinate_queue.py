"""`STOPSHIP_QUEUE=procrastinate` on the real PostgreSQL: the web service stores and defers, a
worker runs the job with the same `process()`; one lock runs one job at a time across workers
while different locks run in parallel; nothing accepted is lost (deliveries accepted while no
worker ran, deliveries never deferred, jobs of a dead worker); a job that keeps failing is
recorded, not retried forever."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github.events import parse_event
from app.jobs.attempts import MAX_ATTEMPTS
from app.jobs.handlers import process
from app.jobs.procrastinate_queue import RUN_DELIVERY, ProcrastinateQueue
from app.jobs.queue import Processor, job_lock
from app.jobs.worker import work
from app.settings import Settings
from app.store.db import libpq_conninfo, make_engine, make_sessions
from app.store.models import Delivery, Installation
from app.web.app import create_app
from tests.app.test_webhook import SECRET, example, headers

DEADLINE = 30.0


def queue_settings(url: str) -> Settings:
    return Settings(database_url=url, queue="procrastinate", github_webhook_secret=SECRET.decode())


@contextlib.asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(url)
    try:
        yield make_sessions(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def workers(
    settings: Settings, count: int, concurrency: int, processor: Processor | None = None
) -> AsyncIterator[None]:
    """`count` workers in this event loop, stopped (gracefully) on exit."""
    tasks = [
        asyncio.create_task(
            work(
                settings,
                concurrency,
                processor=processor,
                install_signal_handlers=False,
                name=f"worker-{n}",
            )
        )
        for n in range(count)
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        return {d.id: d.status for d in await session.scalars(select(Delivery))}


async def jobs(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT id, task_name, lock, queueing_lock, args, status::text AS status "
                "FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"
            ),
            {"task": RUN_DELIVERY},
        )
        return [dict(row._mapping) for row in rows]


async def all_finished(sessions: async_sessionmaker[AsyncSession], count: int) -> bool:
    found = await statuses(sessions)
    return len(found) == count and all(s not in {"accepted", "running"} for s in found.values())


async def store(
    sessions: async_sessionmaker[AsyncSession], delivery_id: str, **fields: Any
) -> None:
    async with sessions() as session:
        session.add(
            Delivery(
                id=delivery_id,
                event=fields.pop("event", "ping"),
                payload=fields.pop("payload", "{}"),
                status=fields.pop("status", "accepted"),
                **fields,
            )
        )
        await session.commit()


async def test_serve_defers_and_a_worker_runs_the_delivery(postgres_url: str) -> None:
    settings = queue_settings(postgres_url)
    app = create_app(settings)
    installation = example("installation", "created")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        for delivery_id, event, payload in [
            ("q-ping", "ping", example("ping")),
            ("q-install", "installation", installation),
        ]:
            body = json.dumps(payload).encode()
            started = time.monotonic()
            response = await http.post(
                "/webhooks/github", content=body, headers=headers(body, event, delivery_id)
            )
            assert response.status_code == 202
            assert time.monotonic() - started < 5.0  # stored and deferred, nothing waited on

        sessions = app.state.sessions
        assert await statuses(sessions) == {"q-ping": "accepted", "q-install": "accepted"}
        queued = await jobs(sessions)
        assert [(j["args"], j["status"]) for j in queued] == [
            ({"delivery_id": "q-ping"}, "todo"),
            ({"delivery_id": "q-install"}, "todo"),
        ]
        assert queued[0]["lock"] == job_lock("q-ping", parse_event("ping", example("ping")))
        assert queued[1]["lock"] == "delivery:q-install"  # no repository: a lock of its own
        assert queued[0]["queueing_lock"] == "delivery:q-ping"
        metrics = (await http.get("/metrics")).text
        assert "stopship_queue_depth 2.0" in metrics

        async with workers(settings, count=1, concurrency=2):
            await wait_until(lambda: all_finished(sessions, 2), "both deliveries")

        assert await statuses(sessions) == {"q-ping": "done", "q-install": "done"}
        async with sessions() as session:
            assert await session.get(Installation, installation["installation"]["id"])
        assert await jobs(sessions) == []  # succeeded jobs are deleted; the deliveries remain
        assert "stopship_queue_depth 0.0" in (await http.get("/metrics")).text


class Recorder:
    """Runs the real `process()`, recording when each delivery's job ran and flagging any
    overlap of two jobs with the same lock. `meet` pairs must be running at the same time."""

    def __init__(self, locks: dict[str, str], meet: tuple[str, str]) -> None:
        self.locks = locks
        self.active: dict[str, set[str]] = {}
        self.overlaps: list[tuple[str, str]] = []
        self.starts: list[str] = []
        self.intervals: dict[str, tuple[float, float]] = {}
        self.meet = meet
        self.arrived = {name: asyncio.Event() for name in meet}

    async def __call__(self, sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str:
        lock = self.locks[delivery_id]
        running = self.active.setdefault(lock, set())
        self.overlaps.extend((other, delivery_id) for other in running)
        running.add(delivery_id)
        self.starts.append(delivery_id)
        began = time.monotonic()
        try:
            if delivery_id in self.arrived:
                # each of the pair waits for the other: only parallel runs get past this
                self.arrived[delivery_id].set()
                other = self.meet[1] if delivery_id == self.meet[0] else self.meet[0]
                await asyncio.wait_for(self.arrived[other].wait(), DEADLINE)
            else:
                await asyncio.sleep(0.05)  # the job's work, long enough to overlap if allowed
            return await process(sessions, delivery_id)
        finally:
            running.discard(delivery_id)
            self.intervals[delivery_id] = (began, time.monotonic())


async def test_one_lock_runs_one_job_at_a_time_across_workers_others_in_parallel(
    postgres_url: str,
) -> None:
    settings = queue_settings(postgres_url)
    same = [f"same-{n}" for n in range(5)]
    locks = {delivery_id: "repo:ref:refs/heads/main" for delivery_id in same}
    locks |= {"other-1": "repo:ref:refs/heads/one", "other-2": "repo:ref:refs/heads/two"}
    recorder = Recorder(locks, meet=("other-1", "other-2"))
    async with database(postgres_url) as sessions:
        # every delivery is accepted and deferred before any worker exists
        deferring = ProcrastinateQueue(sessions, libpq_conninfo(postgres_url))
        await deferring.open()
        for delivery_id, lock in locks.items():
            await store(sessions, delivery_id)
            await deferring.submit(delivery_id, lock)
        assert await deferring.depth() == len(locks)
        await deferring.close()

        async with workers(settings, count=2, concurrency=2, processor=recorder):
            await wait_until(lambda: all_finished(sessions, len(locks)), "every delivery")

        assert set((await statuses(sessions)).values()) == {"done"}
    assert recorder.overlaps == []
    assert [d for d in recorder.starts if d in same] == same  # in the order they were queued
    spans = [recorder.intervals[d] for d in same]
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
    one, two = recorder.intervals["other-1"], recorder.intervals["other-2"]
    assert one[0] < two[1] and two[0] < one[1]  # the two other branches ran side by side


async def test_deliveries_never_deferred_and_jobs_of_a_dead_worker_are_run(
    postgres_url: str,
) -> None:
    settings = queue_settings(postgres_url)
    async with database(postgres_url) as sessions:
        # stored, then the web process stopped before deferring it
        await store(sessions, "never-deferred")
        # fetched by a worker that then died mid-job: 'doing', its heartbeat an hour old
        await store(sessions, "orphaned-job", status="running", attempts=1)
        queue = ProcrastinateQueue(sessions, libpq_conninfo(postgres_url))
        await queue.open()
        await queue.submit("orphaned-job", "delivery:orphaned-job")
        await queue.close()
        async with sessions() as session:
            dead = await session.scalar(
                text(
                    "INSERT INTO procrastinate_workers (last_heartbeat) "
                    "VALUES (now() - interval '1 hour') RETURNING id"
                )
            )
            await session.execute(
                text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w"),
                {"w": dead},
            )
            await session.commit()

        async with workers(settings, count=1, concurrency=2):
            await wait_until(lambda: all_finished(sessions, 2), "both deliveries")

        async with sessions() as session:
            rows = {d.id: (d.status, d.attempts) for d in await session.scalars(select(Delivery))}
    assert rows == {"never-deferred": ("done", 1), "orphaned-job": ("done", 2)}


async def test_a_job_that_keeps_raising_is_recorded_as_failed_not_retried_forever(
    postgres_url: str,
) -> None:
    async def crashing(sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str:
        # what process() does first, then a failure it could not record (the database went away)
        async with sessions() as session:
            delivery = await session.get(Delivery, delivery_id)
            assert delivery is not None
            delivery.status, delivery.attempts = "running", delivery.attempts + 1
            await session.commit()
        raise ConnectionError("the database went away")

    async with database(postgres_url) as sessions:
        await store(sessions, "doomed")
        queue = ProcrastinateQueue(sessions, libpq_conninfo(postgres_url), crashing)
        await queue.open()
        try:
            for _ in range(MAX_ATTEMPTS + 1):
                # each round a worker starts, recovery finds the delivery unfinished with no
                # job and defers it, the worker runs it and stops once the queue is empty
                await queue.run_worker(1, wait=False, install_signal_handlers=False)
            attempts = [j["status"] for j in await jobs(sessions)]
        finally:
            await queue.close()
        async with sessions() as session:
            doomed = await session.get(Delivery, "doomed")
    assert doomed is not None
    assert (doomed.status, doomed.attempts) == ("failed", MAX_ATTEMPTS)
    assert doomed.error is not None and "gave up after" in doomed.error
    # each crash failed its job once (procrastinate does not retry it); the last run only
    # recorded the failure
    assert attempts == ["failed"] * MAX_ATTEMPTS


async def test_recovery_queues_rate_limited_deliveries_whose_time_has_come(
    postgres_url: str,
) -> None:
    settings = queue_settings(postgres_url)
    async with database(postgres_url) as sessions:
        await store(sessions, "due", status="rate_limited", attempts=1)
        await store(sessions, "later", status="rate_limited", attempts=1)
        async with sessions() as session:
            await session.execute(
                text(
                    "UPDATE deliveries SET retry_at = CASE id WHEN 'due' "
                    "THEN now() - interval '1 second' ELSE now() + interval '1 hour' END"
                )
            )
            await session.commit()
        async with workers(settings, count=1, concurrency=1):  # a worker recovers as it starts
            await wait_until(lambda: _is(sessions, "due", "done"), "the due delivery")
        assert (await statuses(sessions))["later"] == "rate_limited"


async def _is(sessions: async_sessionmaker[AsyncSession], delivery_id: str, wanted: str) -> bool:
    return (await statuses(sessions)).get(delivery_id) == wanted
