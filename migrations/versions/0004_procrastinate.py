"""procrastinate's schema (the job queue of `STOPSHIP_QUEUE=procrastinate`), on PostgreSQL only.

The SQL is the schema.sql shipped with the installed procrastinate (3.x), run in the same
transaction as the rest of `stopship db upgrade`. It is skipped when procrastinate's tables are
already there (a database prepared with `procrastinate schema --apply`), so the upgrade is
idempotent either way. On SQLite this revision does nothing: that database has no queue.

Upgrading procrastinate to a version that ships new files in `procrastinate/sql/migrations`
needs a new revision here that runs those files, in order.

Revision ID: 0004_procrastinate
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.util import await_only

revision = "0004_procrastinate"
down_revision = "0002_waivers"


def _run_script(sql: str) -> None:
    """Run a multi-statement script (function bodies contain semicolons, so it cannot be split)
    through asyncpg's simple-query protocol, inside alembic's transaction."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(sql))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
        return
    from procrastinate.schema import SchemaManager

    _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    functions = bind.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'"
        )
    ).scalars()
    statements = [f"DROP FUNCTION IF EXISTS {signature} CASCADE" for signature in functions]
    statements += [
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE",
        "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
        "procrastinate_job_status CASCADE",
    ]
    _run_script(";\n".join(statements))
