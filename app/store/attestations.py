"""Attestation queries: the confirmations in force for a repository (as engine data), recording a
new one, revoking one. As a waiver: in force until it is revoked or its `until` date has passed
(the `until` day itself still counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.attestations import Attestation
from app.store.models import AttestationRow
from app.store.waivers import today


async def rows_in_force(
    session: AsyncSession, repository_id: int, on: date | None = None
) -> list[AttestationRow]:
    """The repository's unrevoked, unexpired attestations, oldest first."""
    day = on or today()
    rows = await session.scalars(
        select(AttestationRow)
        .where(
            AttestationRow.repository_id == repository_id,
            AttestationRow.revoked_at.is_(None),
            or_(AttestationRow.until.is_(None), AttestationRow.until >= day),
        )
        .order_by(AttestationRow.id)
    )
    return list(rows)


async def in_force(
    session: AsyncSession, repository_id: int, on: date | None = None
) -> dict[str, Attestation]:
    """The attestations in force, by item, as the engine takes them (the newest one wins)."""
    return {
        row.item: Attestation(
            item=row.item,
            evidence=row.evidence,
            by=row.created_by,
            on=_day(row.created_at),
            until=row.until.isoformat() if row.until else None,
        )
        for row in await rows_in_force(session, repository_id, on)
    }


def _day(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).date().isoformat()


async def record(session: AsyncSession, row: AttestationRow) -> list[AttestationRow]:
    """Add `row`; attestations in force for the same item are revoked by it (the history stays).
    Returns the rows it replaced. The caller commits."""
    replaced = [
        old for old in await rows_in_force(session, row.repository_id) if old.item == row.item
    ]
    await revoke(session, replaced, row.created_by)
    session.add(row)
    await session.flush()
    return replaced


async def revoke(session: AsyncSession, rows: list[AttestationRow], by: str) -> None:
    """Mark `rows` revoked by `by` now. The caller commits."""
    now = datetime.now(UTC)
    for row in rows:
        row.revoked_at, row.revoked_by = now, by
    await session.flush()
