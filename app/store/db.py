"""Engine and sessions. One engine per process; connections are checked before use (pre-ping)
and recycled, so a database restart or failover costs one retry, not a stream of errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless each connection asks: without this the embedded default
    # would accept deletes that PostgreSQL refuses, and the two would drift apart.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": 15})
        event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys)
        return engine
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


# asyncpg spells libpq's `sslmode` as `ssl` (same values); other query parameters are libpq's.
_ASYNCPG_TO_LIBPQ = {"ssl": "sslmode"}


def libpq_conninfo(database_url: str) -> str:
    """The psycopg (libpq) connection string of the same database as a
    `postgresql+asyncpg://` SQLAlchemy URL: procrastinate talks psycopg, the App asyncpg, and
    both must use the one `STOPSHIP_DATABASE_URL`."""
    from psycopg.conninfo import make_conninfo
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {url.drivername}")
    params: dict[str, str | int] = {"connect_timeout": 10}
    for key, value in url.query.items():
        params[_ASYNCPG_TO_LIBPQ.get(key, key)] = value if isinstance(value, str) else value[-1]
    for key, part in (
        ("host", url.host),
        ("port", url.port),
        ("user", url.username),
        ("password", url.password),
        ("dbname", url.database),
    ):
        if part is not None:
            params[key] = part
    return make_conninfo("", **params)
