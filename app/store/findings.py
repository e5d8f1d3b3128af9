"""Findings of analyses, stored as changes along lineages (see FindingRow): the findings of any
analysis, the open rows of a lineage, and the writes that move a lineage to a new analysis."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.model import Finding
from app.store.models import Analysis, FindingLineage, FindingRow

# what a row says of a finding: fingerprint, rule, severity, stop-ship, path, line, message
Row = tuple[str, str, str, bool, str | None, int | None, str]
CHUNK = 500
_COLUMNS = ("fingerprint", "rule", "severity", "stop_ship", "path", "line", "message")


def row_of(f: Finding) -> Row:
    return (f.fingerprint, f.rule, str(f.severity), f.stop_ship, f.path, f.line, f.message)


def _as_row(r: FindingRow) -> Row:
    return (r.fingerprint, r.rule, r.severity, r.stop_ship, r.path, r.line, r.message)


async def findings_of(session: AsyncSession, analysis_id: int) -> list[FindingRow]:
    """The findings an analysis listed (its report's findings), in the order they were stored."""
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None:
        return []
    query = select(FindingRow).order_by(FindingRow.id)
    if analysis.lineage is None:  # recorded before 0007: every row is its own
        query = query.where(FindingRow.analysis_id == analysis_id)
    else:
        query = query.where(
            FindingRow.lineage == analysis.lineage,
            FindingRow.analysis_id <= analysis_id,
            or_(FindingRow.ended_analysis_id.is_(None), FindingRow.ended_analysis_id > analysis_id),
        )
    return list(await session.scalars(query))


async def rows_of(session: AsyncSession, analysis_id: int) -> set[Row]:
    return {_as_row(r) for r in await findings_of(session, analysis_id)}


async def lineage_head(session: AsyncSession, lineage: str) -> int | None:
    """The lineage's latest analysis, locked until the transaction ends (PostgreSQL)."""
    return await session.scalar(
        select(FindingLineage.head_analysis_id)
        .where(FindingLineage.key == lineage)
        .with_for_update()
    )


async def open_rows(session: AsyncSession, lineage: str) -> dict[str, Row]:
    """The findings of the lineage's latest analysis, by fingerprint."""
    rows = await session.execute(
        select(*(getattr(FindingRow, c) for c in _COLUMNS)).where(
            FindingRow.lineage == lineage, FindingRow.ended_analysis_id.is_(None)
        )
    )
    return {row[0]: (row[0], row[1], row[2], row[3], row[4], row[5], row[6]) for row in rows}


async def move_head(
    session: AsyncSession, lineage: str, repository_id: int, head: int | None, analysis_id: int
) -> bool:
    """Make `analysis_id` the lineage's latest, if `head` still is (False: another job moved
    it meanwhile)."""
    if head is None:
        session.add(
            FindingLineage(key=lineage, repository_id=repository_id, head_analysis_id=analysis_id)
        )
        await session.flush()
        return True
    moved = await session.execute(
        update(FindingLineage)
        .where(FindingLineage.key == lineage, FindingLineage.head_analysis_id == head)
        .values(head_analysis_id=analysis_id)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def end_rows(
    session: AsyncSession, lineage: str, analysis_id: int, fingerprints: Iterable[str]
) -> None:
    """The open rows of these findings end at `analysis_id`."""
    chosen = list(fingerprints)
    for start in range(0, len(chosen), CHUNK):
        await session.execute(
            update(FindingRow)
            .where(
                FindingRow.lineage == lineage,
                FindingRow.ended_analysis_id.is_(None),
                FindingRow.fingerprint.in_(chosen[start : start + CHUNK]),
            )
            .values(ended_analysis_id=analysis_id)
        )


async def add_rows(session: AsyncSession, lineage: str, analysis_id: int, rows: list[Row]) -> None:
    """New open rows from `analysis_id`. A first analysis of a monorepo has tens of thousands:
    PostgreSQL takes them with COPY (several times faster than INSERTs), SQLite with one
    executemany."""
    if not rows:
        return
    records = [(analysis_id, lineage, *row) for row in rows]
    columns = ("analysis_id", "lineage", *_COLUMNS)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            FindingRow.__tablename__, records=records, columns=list(columns)
        )
        return
    values: list[dict[str, Any]] = [dict(zip(columns, r, strict=True)) for r in records]
    await session.execute(insert(FindingRow.__table__), values)  # type: ignore[arg-type]
