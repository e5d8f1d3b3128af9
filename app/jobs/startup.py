"""The database checks `serve` and `worker` run before they start: reachable, migrated to the
current head, and (with `STOPSHIP_QUEUE=procrastinate`) holding procrastinate's schema and
reachable through psycopg too. Each problem comes back as one sentence saying what to do."""

from __future__ import annotations

import asyncio

from app.settings import Settings
from app.store.db import libpq_conninfo, make_engine, make_sessions
from app.store.migrate import at_head

NOT_MIGRATED = "the database is not migrated to the current schema: run `stopship db upgrade`"
NO_QUEUE_SCHEMA = (
    "STOPSHIP_QUEUE=procrastinate but the database has no procrastinate schema: "
    "run `stopship db upgrade`"
)


async def database_problem_async(settings: Settings) -> str | None:
    """None when the database is ready for `serve` / `worker`, else what is wrong."""
    engine = make_engine(settings.database_url)
    try:
        if not await at_head(engine):
            return NOT_MIGRATED
        if settings.queue == "procrastinate":
            from app.jobs.procrastinate_queue import schema_present

            if not await schema_present(make_sessions(engine)):
                return NO_QUEUE_SCHEMA
            import psycopg

            async with await psycopg.AsyncConnection.connect(
                libpq_conninfo(settings.database_url)
            ) as connection:
                await connection.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any connection problem is reported, not raised
        return f"cannot reach the database ({type(exc).__name__}: {exc})"
    finally:
        await engine.dispose()
    return None


def database_problem(settings: Settings) -> str | None:
    return asyncio.run(database_problem_async(settings))
