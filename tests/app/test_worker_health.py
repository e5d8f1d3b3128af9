"""The worker's /healthz (issue 14): 200 only while the worker's heartbeat, a database round trip
made in the worker's own event loop, is fresh; 503 before the first beat, once beats stop and
when the database no longer answers. /metrics is still served on the same port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httpx
import pytest

from app.jobs.worker import work
from app.jobs.worker_health import Heartbeat, keep_beating, serve_health_and_metrics
from app.metrics import Metrics
from app.settings import Settings

DEADLINE = 30.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SignallingHeartbeat(Heartbeat):
    """A heartbeat that also sets an event at each beat: tests wait on it, never sleep."""

    def __init__(self, max_age: float = 60.0) -> None:
        super().__init__(max_age)
        self.beaten = asyncio.Event()

    def beat(self) -> None:
        super().beat()
        self.beaten.set()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextlib.contextmanager
def served(heartbeat: Heartbeat | None) -> Iterator[str]:
    server, port = serve_health_and_metrics(Metrics(), "127.0.0.1", 0, heartbeat)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_healthz_follows_the_heartbeat_age(clock: FakeClock) -> None:
    heartbeat = Heartbeat(max_age=60.0, clock=clock)
    with served(heartbeat) as url:
        before = httpx.get(f"{url}/healthz", timeout=5)
        assert (before.status_code, before.text) == (503, "no heartbeat yet\n")
        heartbeat.beat()
        clock.now += 59
        fresh = httpx.get(f"{url}/healthz", timeout=5)
        assert (fresh.status_code, fresh.text) == (200, "ok: last heartbeat 59s ago\n")
        clock.now += 2
        stale = httpx.get(f"{url}/healthz", timeout=5)
        assert (stale.status_code, stale.text) == (503, "last heartbeat 61s ago\n")
        metrics = httpx.get(f"{url}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "stopship_analysis_duration_seconds" in metrics.text


def test_without_a_heartbeat_every_path_is_metrics() -> None:
    with served(None) as url:
        answer = httpx.get(f"{url}/healthz", timeout=5)
    assert answer.status_code == 200 and "stopship_analysis_duration_seconds" in answer.text


async def test_a_failing_probe_withholds_the_beat() -> None:
    heartbeat = SignallingHeartbeat()
    answers = iter([RuntimeError("database down"), None])
    probed = asyncio.Event()

    async def probe() -> None:
        answer = next(answers)
        probed.set()
        if answer is not None:
            raise answer

    task = asyncio.create_task(keep_beating(heartbeat, probe, interval=0.01))
    try:
        await asyncio.wait_for(probed.wait(), DEADLINE)
        assert heartbeat.age() is None  # the first probe failed: no beat
        await asyncio.wait_for(heartbeat.beaten.wait(), DEADLINE)  # the second succeeded
        assert heartbeat.fresh()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_hung_probe_withholds_the_beat() -> None:
    heartbeat = SignallingHeartbeat()
    started = asyncio.Event()

    async def probe() -> None:
        started.set()
        await asyncio.Event().wait()  # never answers

    task = asyncio.create_task(keep_beating(heartbeat, probe, interval=0.01))
    try:
        await asyncio.wait_for(started.wait(), DEADLINE)
        started.clear()
        await asyncio.wait_for(started.wait(), DEADLINE)  # timed out, probed again
        assert heartbeat.age() is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_running_worker_beats_and_its_heartbeat_ends_with_it(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, queue="procrastinate")
    heartbeat = SignallingHeartbeat()
    task = asyncio.create_task(
        work(
            settings,
            1,
            install_signal_handlers=False,
            heartbeat=heartbeat,
            heartbeat_interval=0.05,
        )
    )
    try:
        await asyncio.wait_for(heartbeat.beaten.wait(), DEADLINE)
        assert heartbeat.fresh()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # the worker is gone: its heartbeat task went with it
    beating = [t for t in asyncio.all_tasks() if "keep_beating" in repr(t.get_coro())]
    assert beating == []
