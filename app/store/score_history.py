"""The default branch's scores over time and what the readiness badge shows, from the stored
analyses (pushes to the default branch are stored along the lineage `{repository}:ref:{ref}`,
app/jobs/subject.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Analysis, Repository

HISTORY = 30  # analyses of the default branch a trend looks back over


def default_lineage(repository_id: int, default_branch: str) -> str:
    """The lineage of pushes to the default branch."""
    return f"{repository_id}:ref:refs/heads/{default_branch}"


async def scores(
    session: AsyncSession, repository_id: int, default_branch: str, limit: int = HISTORY
) -> tuple[int, ...]:
    """The scores of the default branch's last `limit` analyses, oldest first."""
    rows = await session.execute(
        select(Analysis.score)
        .where(
            Analysis.lineage == default_lineage(repository_id, default_branch),
            Analysis.score.is_not(None),
        )
        .order_by(Analysis.id.desc())
        .limit(limit)
    )
    return tuple(score for score in reversed(rows.scalars().all()) if score is not None)


@dataclass(frozen=True)
class Badge:
    grade: str
    score: int


async def public_badge(session: AsyncSession, full_name: str) -> Badge | None:
    """The latest grade and score of the default branch of `full_name` (case as GitHub ignores
    it), or None when the repository is unknown, not known to be public, removed, or its default
    branch was never judged: every one of them answers alike, so a private repository's existence
    is never revealed."""
    repository = (
        await session.execute(
            select(Repository)
            .where(func.lower(Repository.full_name) == full_name.lower())
            .order_by(Repository.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if (
        repository is None
        or repository.private is not False
        or repository.removed_at is not None
        or not repository.default_branch
    ):
        return None
    latest = (
        await session.execute(
            select(Analysis.grade, Analysis.score)
            .where(
                Analysis.lineage == default_lineage(repository.id, repository.default_branch),
                Analysis.score.is_not(None),
            )
            .order_by(Analysis.id.desc())
            .limit(1)
        )
    ).first()
    if latest is None or latest[0] is None:
        return None
    return Badge(str(latest[0]), int(latest[1] or 0))
