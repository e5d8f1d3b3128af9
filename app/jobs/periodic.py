"""A periodic task inside a process (the inline queue's `serve`): `async with repeating(...)`
runs a coroutine every interval while the block lasts. procrastinate's workers have their own
periodic tasks (app/jobs/procrastinate_queue.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog

log = structlog.get_logger()


async def _every(interval: timedelta, run: Callable[[], Awaitable[object]], name: str) -> None:
    while True:
        await asyncio.sleep(interval.total_seconds())  # first run one interval after start
        try:
            await run()
        except Exception:  # the database or GitHub may be away for a while: next time
            log.exception("periodic task failed", task=name)


@asynccontextmanager
async def repeating(
    interval: timedelta, run: Callable[[], Awaitable[object]] | None, name: str
) -> AsyncIterator[None]:
    """Run `run` every `interval` until the block ends (nothing when `run` is None)."""
    if run is None:
        yield
        return
    task = asyncio.create_task(_every(interval, run, name), name=name)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
