"""What a judged commit leaves in the database: its repository (and installation) if new, one
Analysis row, and its findings as changes along its lineage (app/store/findings.py): the rows of
findings that appeared or changed since the lineage's latest analysis, and the end of the rows
of those that went. A push that changes one file of a 20,000-file repository writes the rows of
that file's findings, not the repository's again.

What changed is worked out against the lineage's open findings. This process remembers them per
lineage as the findings of the report it stored last (reports share the Finding objects of the
files that did not change, so the difference is a comparison of object identities); when the
lineage has moved since (another process, a restart), they are read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.model import Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.github.events import Place
from app.store import findings as finding_store
from app.store.findings import Row, row_of
from app.store.models import Analysis, Installation, Repository

ATTEMPTS = 2


async def ensure_repository(session: AsyncSession, place: Place) -> int:
    """The repository's row (and its installation's), made when first seen; its id."""
    installation, repo = place.installation, place.repository
    if await session.get(Installation, installation.id) is None:
        account = installation.account or repo.owner
        session.add(Installation(id=installation.id, account=account.login if account else ""))
        await session.flush()
    row = await session.get(Repository, repo.id)
    if row is None:
        row = Repository(id=repo.id, installation_id=installation.id, full_name=repo.full_name)
        session.add(row)
    # what the delivery says of the repository now (a repository made private: no badge)
    if repo.private is not None:
        row.private = repo.private
    if repo.default_branch:
        row.default_branch = repo.default_branch
    await session.flush()
    return repo.id


@dataclass(frozen=True)
class _Stored:
    """A lineage's latest analysis as this process stored it: its id and its findings by
    object identity (the dict keeps the objects, so no id is reused while it is kept)."""

    analysis_id: int
    findings: dict[int, Finding]


_stored: WeakKeyDictionary[async_sessionmaker[AsyncSession], dict[str, _Stored]] = (
    WeakKeyDictionary()
)
# each holds the findings of one report alive (tens of thousands for a monorepo): a few only; a
# lineage not kept is read from the database
LINEAGES_KEPT = 8


def _stored_of(sessions: async_sessionmaker[AsyncSession]) -> dict[str, _Stored]:
    found = _stored.get(sessions)
    if found is None:
        found = _stored[sessions] = {}
    return found


def changes(
    before: _Stored | dict[str, Row], now: dict[int, Finding]
) -> tuple[list[str], list[Row]]:
    """(fingerprints whose open row ends, rows to add) to go from `before` to `now`."""
    if isinstance(before, _Stored):
        went = before.findings.keys() - now.keys()
        came = now.keys() - before.findings.keys()
        old = {f.fingerprint: row_of(f) for f in (before.findings[i] for i in went)}
        new = {f.fingerprint: row_of(f) for f in (now[i] for i in came)}
    else:
        old = before
        new = {f.fingerprint: row_of(f) for f in now.values()}
    ended = [fp for fp, row in old.items() if new.get(fp) != row]
    added = [row for fp, row in new.items() if old.get(fp) != row]
    return ended, added


async def store_analysis(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    place: Place,
    sha: str,
    rules: Ruleset,
    run_id: int,
    report: Report,
    lineage: str,
) -> None:
    """One Analysis row (score, grade, verdict, check run) and its findings, as changes along
    `lineage` (whose analyses are judged one at a time: it is the job's lock)."""
    stored = _stored_of(sessions)
    now = dict(zip(map(id, report.findings), report.findings, strict=True))
    for _ in range(ATTEMPTS):
        async with sessions() as session:
            repository_id = await ensure_repository(session, place)
            analysis = Analysis(
                repository_id=repository_id,
                sha=sha,
                ruleset_digest=rules.digest,
                score=report.score,
                grade=report.grade,
                verdict=report.verdict,
                check_run_id=run_id,
                delivery_id=delivery_id,
                lineage=lineage,
            )
            session.add(analysis)
            await session.flush()
            head = await finding_store.lineage_head(session, lineage)
            known = stored.get(lineage)
            before: _Stored | dict[str, Row]
            if head is None:
                before = {}
            elif known is not None and known.analysis_id == head:
                before = known
            else:
                before = await finding_store.open_rows(session, lineage)
            ended, added = changes(before, now)
            await finding_store.end_rows(session, lineage, analysis.id, ended)
            await finding_store.add_rows(session, lineage, analysis.id, added)
            if await finding_store.move_head(session, lineage, repository_id, head, analysis.id):
                await session.commit()
                stored.pop(lineage, None)
                stored[lineage] = _Stored(analysis.id, now)
                while len(stored) > LINEAGES_KEPT:
                    del stored[next(iter(stored))]
                return
            await session.rollback()
            stored.pop(lineage, None)
    raise RuntimeError(f"the findings of lineage {lineage} kept moving while being stored")
