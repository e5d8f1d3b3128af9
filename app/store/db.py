"""Engine and sessions. One engine per process; connections are checked before use (pre-ping)
and recycled, so a database restart or failover costs one retry, not a stream of errors."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": 15})
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=10,
        max_overflow=10,
        pool_timeout=10,
        connect_args={"timeout": 10, "command_timeout": 30},
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)
