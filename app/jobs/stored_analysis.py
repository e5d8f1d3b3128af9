"""What a judged commit leaves in the database: its repository (and installation) if new, one
Analysis row, and one FindingRow per listed finding."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.store.models import Analysis, FindingRow, Installation, Repository


async def ensure_repository(session: AsyncSession, payload: dict[str, Any]) -> int:
    installation = payload["installation"]
    repo = payload["repository"]
    if await session.get(Installation, installation["id"]) is None:
        account = (installation.get("account") or repo.get("owner") or {}).get("login", "")
        session.add(Installation(id=installation["id"], account=str(account)))
        await session.flush()
    if await session.get(Repository, repo["id"]) is None:
        session.add(
            Repository(
                id=repo["id"], installation_id=installation["id"], full_name=repo["full_name"]
            )
        )
        await session.flush()
    return int(repo["id"])


async def store_analysis(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    sha: str,
    rules: Ruleset,
    run_id: int,
    report: Report,
) -> None:
    """One Analysis row (score, grade, verdict, check run) and its findings."""
    async with sessions() as session:
        repository_id = await ensure_repository(session, payload)
        analysis = Analysis(
            repository_id=repository_id,
            sha=sha,
            ruleset_digest=rules.digest,
            score=report.score,
            grade=report.grade,
            verdict=report.verdict,
            check_run_id=run_id,
            delivery_id=delivery_id,
        )
        session.add(analysis)
        await session.flush()
        rows = [
            (analysis.id, f.fingerprint, f.rule, str(f.severity), f.stop_ship, f.path, f.line,
             f.message)
            for f in report.findings
        ]  # fmt: skip
        await _insert_findings(session, rows)
        await session.commit()


_FINDING_COLUMNS = (
    "analysis_id", "fingerprint", "rule", "severity", "stop_ship", "path", "line", "message"
)  # fmt: skip


async def _insert_findings(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    """A monorepo's analysis has tens of thousands of findings: PostgreSQL takes them with COPY
    (several times faster than INSERTs), SQLite with one executemany."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            FindingRow.__tablename__, records=rows, columns=list(_FINDING_COLUMNS)
        )
        return
    values = [dict(zip(_FINDING_COLUMNS, row, strict=True)) for row in rows]
    await session.execute(insert(FindingRow.__table__), values)  # type: ignore[arg-type]
