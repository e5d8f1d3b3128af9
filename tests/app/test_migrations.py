"""The alembic revisions build exactly the schema the models describe (on SQLite and PostgreSQL),
and every revision after the first can be rolled back and applied again."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from app.store.db import make_engine
from app.store.migrate import alembic_config, upgrade
from app.store.models import Base


def ours(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """procrastinate's job tables (revision 0004 applies its own schema) are not our models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


async def differences(url: str) -> list[Any]:
    engine = make_engine(url)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": ours}
        )
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_the_migrations_build_the_models_schema(database_url: str) -> None:
    assert await differences(database_url) == []


async def test_every_revision_rolls_back_and_forward(database_url: str) -> None:
    # alembic's env runs its own event loop: give it a thread
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0001")
    added = sorted(d[1].name for d in await differences(database_url) if d[0] == "add_table")
    assert added == [
        "analysis_claims",
        "config_blobs",
        "finding_lineages",
        "supersede_marks",
        "waivers",
    ]
    await asyncio.to_thread(upgrade, database_url)
    assert await differences(database_url) == []
