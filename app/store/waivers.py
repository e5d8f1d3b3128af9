"""Waiver queries: the waivers in force for a repository (as engine data), recording a new one,
revoking one. A waiver is in force until it is revoked or its `until` date has passed (the
`until` day itself still counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.model import Waiver
from app.store.models import WaiverRow


def today() -> date:
    """The current date in UTC: waivers expire at the end of their `until` day, UTC."""
    return datetime.now(UTC).date()


async def rows_in_force(
    session: AsyncSession, repository_id: int, on: date | None = None
) -> list[WaiverRow]:
    """The repository's unrevoked, unexpired waivers, oldest first."""
    day = on or today()
    rows = await session.scalars(
        select(WaiverRow)
        .where(
            WaiverRow.repository_id == repository_id,
            WaiverRow.revoked_at.is_(None),
            or_(WaiverRow.until.is_(None), WaiverRow.until >= day),
        )
        .order_by(WaiverRow.id)
    )
    return list(rows)


async def in_force(
    session: AsyncSession, repository_id: int, on: date | None = None
) -> dict[str, Waiver]:
    """The waivers in force, by fingerprint, as the engine takes them (the newest one wins)."""
    return {
        row.fingerprint: Waiver(
            fingerprint=row.fingerprint,
            reason=row.reason,
            by=row.created_by,
            until=row.until.isoformat() if row.until else None,
        )
        for row in await rows_in_force(session, repository_id, on)
    }


async def record(session: AsyncSession, row: WaiverRow) -> list[WaiverRow]:
    """Add `row`; waivers in force for the same finding are revoked by it (the history stays).
    Returns the rows it replaced. The caller commits."""
    replaced = [
        old
        for old in await rows_in_force(session, row.repository_id)
        if old.fingerprint == row.fingerprint
    ]
    now = datetime.now(UTC)
    for old in replaced:
        old.revoked_at, old.revoked_by = now, row.created_by
    session.add(row)
    await session.flush()
    return replaced


async def revoke(session: AsyncSession, rows: list[WaiverRow], by: str) -> None:
    """Mark `rows` revoked by `by` now. The caller commits."""
    now = datetime.now(UTC)
    for row in rows:
        row.revoked_at, row.revoked_by = now, by
    await session.flush()
