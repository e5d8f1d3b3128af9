"""The alembic revisions build exactly the schema the models describe (on SQLite and PostgreSQL),
and every revision after the first can be rolled back and applied again."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.store import findings
from app.store.db import make_engine, make_sessions
from app.store.migrate import alembic_config, upgrade
from app.store.models import (
    Analysis,
    Base,
    FindingLineage,
    FindingRow,
    Installation,
    Repository,
)


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
        "attestations",
        "config_blobs",
        "finding_lineages",
        "github_tokens",
        "redelivery_requests",
        "supersede_marks",
        "task_leases",
        "waivers",
    ]
    await asyncio.to_thread(upgrade, database_url)
    assert await differences(database_url) == []


async def test_a_migration_gives_up_on_a_busy_table_instead_of_blocking_it(
    postgres_url: str,
) -> None:
    """While a long query holds `deliveries`, the ALTER of a migration must not queue behind it
    (blocking every later webhook): lock_timeout makes it fail after 5 s, and it applies later."""
    await asyncio.to_thread(
        command.downgrade, alembic_config(postgres_url), "0005_removals_keep_history"
    )
    holder = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE deliveries IN ACCESS SHARE MODE")  # a long SELECT
            # without lock_timeout the upgrade would wait for as long as the lock is held:
            # wait_for turns that into a failure (TimeoutError) instead of a hung test
            with pytest.raises(Exception, match="lock timeout"):
                await asyncio.wait_for(asyncio.to_thread(upgrade, postgres_url), 30)
    finally:
        await holder.close()
    await asyncio.to_thread(upgrade, postgres_url)
    assert await differences(postgres_url) == []


async def test_findings_stored_as_changes_roll_back_to_rows_per_analysis(database_url: str) -> None:
    """0007 down: each analysis of a lineage gets its findings as rows of its own, as 0006 reads
    them; and up again, those analyses (now without a lineage) still answer their findings."""
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    rows = {
        "a": ("a" * 40, "SEC002", "high", True, "app/x.py", 2, "m"),
        "b": ("b" * 40, "ERR002", "medium", False, "app/y.py", 5, "m"),
        "b2": ("b" * 40, "ERR002", "medium", False, "app/y.py", 7, "m"),
        "c": ("c" * 40, "OBS001", "low", False, None, None, "m"),
    }
    # lineage L: analysis 1 has a, b; 2 has a, b (moved to line 7), c; 3 has c.
    # analysis 4 was recorded before 0007 (no lineage) and has a.
    spans = [("a", 1, 3), ("b", 1, 2), ("b2", 2, 3), ("c", 2, None)]
    expected = {1: {"a", "b"}, 2: {"a", "b2", "c"}, 3: {"c"}, 4: {"a"}}
    async with sessions() as session:
        session.add(Installation(id=1, account="octo"))
        await session.flush()
        session.add(Repository(id=1, installation_id=1, full_name="octo/shop"))
        await session.flush()
        for i in (1, 2, 3, 4):
            lineage = "1:ref:refs/heads/main" if i < 4 else None
            session.add(Analysis(id=i, repository_id=1, sha=f"{i:040x}", ruleset_digest="d",
                                 lineage=lineage))  # fmt: skip
        await session.flush()
        for name, first, ended in spans:
            row = dict(zip(_ROW, rows[name], strict=True))
            session.add(FindingRow(analysis_id=first, lineage="1:ref:refs/heads/main",
                                   ended_analysis_id=ended, **row))  # fmt: skip
        session.add(FindingRow(analysis_id=4, **dict(zip(_ROW, rows["a"], strict=True))))
        session.add(FindingLineage(key="1:ref:refs/heads/main", repository_id=1,
                                   head_analysis_id=3))  # fmt: skip
        await session.commit()
        for i, names in expected.items():
            assert await findings.rows_of(session, i) == {rows[n] for n in names}
    await engine.dispose()

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0006_incremental")
    engine = make_engine(database_url)
    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                text(f"SELECT analysis_id, {', '.join(_ROW)} FROM findings ORDER BY id")
            )
        ).all()
    await engine.dispose()
    per_analysis: dict[int, set[tuple[Any, ...]]] = {}
    for analysis_id, *row in stored:
        per_analysis.setdefault(analysis_id, set()).add((*row[:3], bool(row[3]), *row[4:]))
    assert per_analysis == {i: {rows[n] for n in names} for i, names in expected.items()}

    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    async with make_sessions(engine)() as session:
        for i, names in expected.items():
            assert await findings.rows_of(session, i) == {rows[n] for n in names}
    await engine.dispose()


_ROW = ("fingerprint", "rule", "severity", "stop_ship", "path", "line", "message")
