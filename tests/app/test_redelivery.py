"""Deliveries that never reached the App (GitHub got a 503 while the database was away, or could
not connect) are asked of GitHub again by a periodic task: each once, only recent ones, a
bounded number per run, one process at a time; the procrastinate workers and `serve` with the
inline queue both run it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit import AppAuthStrategy, GitHub
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from app.github.client import app_client
from app.jobs import redelivery
from app.jobs.procrastinate_queue import REDELIVER, ProcrastinateQueue
from app.jobs.redelivery import redeliver_missed
from app.settings import Settings
from app.store.db import libpq_conninfo, make_engine, make_sessions
from app.store.leases import acquire
from app.store.models import Delivery, RedeliveryRequest
from app.web.app import create_app
from app.web.signature import sign
from tests.app.app_harness import SECRET
from tests.app.fake_github import FakeGitHub, hook_delivery, start
from tests.app.test_webhook import example

NOW = datetime.now(UTC).replace(microsecond=0)
DEADLINE = 30.0


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


PEM = _pem()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    server = start(github)
    yield github
    server.shutdown()
    assert github.problems == [], github.problems  # OpenAPI-valid, and as the App (its JWT)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


def settings_for(database_url: str, fake: FakeGitHub, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        github_app_id=4242,
        github_private_key=PEM,
        github_webhook_secret=SECRET.decode(),
        github_api_url=fake.url,
        **extra,
    )


def as_app(fake: FakeGitHub) -> GitHub[AppAuthStrategy]:
    return app_client(4242, PEM, fake.url)


async def post(http: httpx.AsyncClient, event: str, body: bytes, guid: str) -> int:
    """Deliver as GitHub does (a redelivery carries the original's GUID and body)."""
    response = await http.post(
        "/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        },
    )
    return response.status_code


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


async def test_an_outage_s_lost_deliveries_are_redelivered_once(
    database_url: str, fake: FakeGitHub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ping = json.dumps(example("ping")).encode()
    installed = json.dumps(example("installation", "created")).encode()
    sent = {"lost-1": ("installation", installed), "lost-2": ("ping", ping)}
    # the database is away: GitHub is answered 503 and nothing is stored
    down = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",  # nothing listens
        github_webhook_secret=SECRET.decode(),
    )
    down_engine = make_engine(down.database_url)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(down, down_engine)), base_url="http://t"
    ) as http:
        for guid, (event, body) in sent.items():
            assert await post(http, event, body, guid) == 503
    await down_engine.dispose()
    # ... and back: these are stored
    app = create_app(settings_for(database_url, fake))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert await post(http, "ping", ping, "stored") == 202
        assert await post(http, "ping", ping, "redelivered-by-hand") == 202
    await app.state.queue.drain()

    fake.hook_deliveries = [  # as GitHub lists them: newest first
        hook_delivery(20, "in-flight", "ping", 502, ago(0.2)),  # may still be answered
        hook_delivery(19, "stored", "ping", 202, ago(5)),
        hook_delivery(18, "redelivered-by-hand", "ping", 202, ago(6), redelivery=True),
        hook_delivery(17, "unsupported", "issues", 204, ago(7)),  # not an event we handle
        hook_delivery(16, "malformed", "ping", 400, ago(8)),  # would be refused again
        hook_delivery(15, "lost-2", "ping", 503, ago(9)),
        hook_delivery(14, "redelivered-by-hand", "ping", 503, ago(10)),
        hook_delivery(13, "lost-1", "installation", 503, ago(11)),
        hook_delivery(12, "unreachable", "installation", 502, ago(12)),  # never reached us
        hook_delivery(11, "long-ago", "ping", 503, ago(60 * 25)),  # beyond the window
        hook_delivery(10, "longer-ago", "ping", 503, ago(60 * 26)),
    ]
    with capture_logs() as logs:
        first = await redeliver_missed(sessions, as_app(fake), now=NOW, per_page=4)

    assert fake.redelivered == [12, 13, 15]  # oldest first, once each
    listings = fake.calls("GET", "/app/hook/deliveries")
    assert len(listings) == 3  # paged with the cursor, stopped at the window's start
    assert (first.listed, first.missed, first.redelivered) == (9, 3, 3)
    lines = [entry for entry in logs if entry["event"] == "queue-recovery"]
    assert len(lines) == 1 and lines[0]["redelivered"] == 3 and lines[0]["missed"] == 3
    async with sessions() as session:
        asked = set(await session.scalars(select(RedeliveryRequest.guid)))
    assert asked == {"unreachable", "lost-1", "lost-2"}

    # a second run asks nothing, whether or not the redeliveries have arrived yet
    second = await redeliver_missed(sessions, as_app(fake), now=NOW, per_page=4)
    assert fake.redelivered == [12, 13, 15]
    assert (second.missed, second.already_asked, second.redelivered) == (3, 3, 0)

    # GitHub redelivers (same GUID, same body): now stored, nothing is missed any more
    app = create_app(settings_for(database_url, fake))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for guid, (event, body) in sent.items():
            assert await post(http, event, body, guid) == 202
    await app.state.queue.drain()
    async with sessions() as session:
        stored = set(await session.scalars(select(Delivery.id)))
    assert {"lost-1", "lost-2"} <= stored
    third = await redeliver_missed(sessions, as_app(fake), now=NOW, per_page=4)
    assert (third.missed, third.redelivered) == (1, 0)  # only "unreachable" is still away
    assert fake.redelivered == [12, 13, 15]


async def test_each_run_asks_a_bounded_number_and_a_refusal_is_not_asked_again(
    database_url: str, fake: FakeGitHub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fake.hook_deliveries = [
        hook_delivery(30 - n, f"lost-{n}", "ping", 503, ago(10 + n)) for n in range(5)
    ]
    fake.failures["POST /app/hook/deliveries/26/"] = [422]  # lost-4: too old to redeliver
    first = await redeliver_missed(sessions, as_app(fake), now=NOW, limit=2)
    assert fake.redelivered == [27]  # the oldest two asked; the refusal is no redelivery
    assert (first.refused, first.redelivered, first.postponed) == (1, 1, 3)
    assert fake.count("POST", "/attempts") == 2
    second = await redeliver_missed(sessions, as_app(fake), now=NOW, limit=2)
    assert (second.already_asked, second.redelivered, second.postponed) == (2, 2, 1)
    third = await redeliver_missed(sessions, as_app(fake), now=NOW, limit=2)
    assert (third.already_asked, third.redelivered, third.postponed) == (4, 1, 0)
    assert fake.count("POST", "/attempts") == 5  # each asked once, the refused one too
    assert sorted(fake.redelivered) == [27, 28, 29, 30]


async def test_one_process_at_a_time(
    database_url: str, fake: FakeGitHub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fake.hook_deliveries = [hook_delivery(40, "lost", "ping", 503, ago(10))]
    assert await acquire(sessions, redelivery.LEASE, "another-process", timedelta(minutes=10))
    with capture_logs() as logs:
        run = await redeliver_missed(sessions, as_app(fake), now=NOW)
    assert not run.held
    assert fake.requests == []  # GitHub was not even asked for the list
    assert [e["held"] for e in logs if e["event"] == "queue-recovery"] == [False]
    # the other process's lease lapses (it died): the next run takes over
    later = datetime.now(UTC) + timedelta(minutes=11)
    assert await acquire(sessions, redelivery.LEASE, "next", timedelta(minutes=1), now=later)
    assert not await acquire(sessions, redelivery.LEASE, "third", timedelta(minutes=1), now=later)


async def _until(condition: Any) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_serve_with_the_inline_queue_runs_it_periodically(
    database_url: str, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redelivery, "EVERY", timedelta(milliseconds=20))
    fake.hook_deliveries = [hook_delivery(50, "lost", "ping", 503, ago(10))]
    app = create_app(settings_for(database_url, fake))
    async with app.router.lifespan_context(app):
        await _until(lambda: fake.redelivered == [50])
        await _until(lambda: fake.count("GET", "/app/hook/deliveries") >= 2)  # ... and again
    assert fake.redelivered == [50]


async def test_procrastinate_workers_run_it_as_a_periodic_task(postgres_url: str) -> None:
    ran: list[str] = []

    async def redeliver() -> None:
        ran.append("run")

    engine = make_engine(postgres_url)
    queue = ProcrastinateQueue(
        make_sessions(engine), libpq_conninfo(postgres_url), processor=None, redeliver=redeliver
    )
    periodic = [
        p for p in queue.app.periodic_registry.periodic_tasks.values() if p.task.name == REDELIVER
    ]
    assert [p.cron for p in periodic] == ["*/5 * * * *"]
    await queue.open()
    try:
        await queue.app.configure_task(REDELIVER).defer_async(timestamp=int(time.time()))
        await queue.app.run_worker_async(queues=["deliveries"], wait=False)
    finally:
        await queue.close()
        await engine.dispose()
    assert ran  # (the worker's periodic deferrer may have deferred this tick's run too)
