"""Leases: one process at a time runs a periodic task, whichever queue and however many `serve`
and `worker` processes share the database. A lease is a row (`task_leases`) taken with one
conditional UPDATE (or the first INSERT), which SQLite and PostgreSQL both make atomic; it lapses
by itself when its holder dies, and is given back when the holder ends its run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import TaskLease


async def acquire(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    holder: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> bool:
    """Take lease `name` for `holder` until `ttl` from now; False while another holder's lease
    has not expired."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        taken = await session.execute(
            update(TaskLease)
            .where(TaskLease.name == name, TaskLease.expires_at <= now)
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            await session.commit()
            return True
        session.add(TaskLease(name=name, holder=holder, expires_at=now + ttl))
        try:
            await session.commit()
        except IntegrityError:  # the row exists and its lease runs: someone else holds it
            await session.rollback()
            return False
        return True


async def release(sessions: async_sessionmaker[AsyncSession], name: str, holder: str) -> None:
    """Give lease `name` back, if `holder` still holds it (the next run need not wait)."""
    async with sessions() as session:
        await session.execute(
            update(TaskLease)
            .where(TaskLease.name == name, TaskLease.holder == holder)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()


@asynccontextmanager
async def lease(
    sessions: async_sessionmaker[AsyncSession], name: str, ttl: timedelta
) -> AsyncIterator[bool]:
    """`async with lease(...) as held:` — `held` says whether this process holds it for the
    block; it is released when the block ends."""
    holder = uuid.uuid4().hex
    held = await acquire(sessions, name, holder, ttl)
    try:
        yield held
    finally:
        if held:
            await release(sessions, name, holder)
