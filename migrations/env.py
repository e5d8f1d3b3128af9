"""Alembic environment for stopship's own database (async engines, configured in code)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # never queue behind a long query while holding a lock that blocks everyone else; a
        # session setting, so it holds for every migration's transaction after this commit
        connection.exec_driver_sql("SET lock_timeout = '5s'")
        connection.commit()
    # one transaction per revision, owned by alembic, so that a revision can step out of it
    # (`autocommit_block()`) for CREATE INDEX CONCURRENTLY
    context.configure(
        connection=connection, target_metadata=target_metadata, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
