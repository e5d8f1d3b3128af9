"""Superseding and de-duplication, through the database only (any queue backend, any number of
worker processes).

- `record()` runs in the transaction that accepts a delivery: a delivery that asks for a verdict
  on a subject (a push to a branch, a new head on a pull request: `job_subject().supersede`)
  adds a mark. The mark with the highest id for a key is the newest.
- `newer_sha()` is asked by a job before it creates its check run, before it fetches blobs and
  before it publishes: when a newer mark exists for its key, the job stops and its check run is
  completed `neutral`, "superseded by <sha>".
- `claim()`: the first job to judge a commit in a context (the branch or base that gates it, the
  config ref, the ruleset) claims it, so a push and the check_suite GitHub sends for the same
  commit produce one analysis. A job that fails or runs out of API quota releases its claim, so
  the next delivery (or a re-run) judges the commit; a re-run the user asks for always does.
- The claim names its check run from the moment it is created (`hold_check_run()`), so a job
  run again after its process died, or after GitHub was unavailable, completes that check run
  instead of leaving it `in_progress` and adding another; `release_left()` lets go of what a
  delivery that will not run again still holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github.events import Event, PullRequestEvent, PushEvent
from app.jobs.subject import job_subject
from app.store.models import AnalysisClaim, SupersedeMark

PR_ACTIONS = frozenset({"opened", "synchronize", "reopened"})


def asks_for_verdict(event: Event) -> bool:
    """Whether this delivery is judged (a title edit or a closed pull request is not, and must
    not supersede the analysis of the current head)."""
    if isinstance(event, PushEvent):  # a branch's new head (a tag names a commit judged before)
        judged = bool(event.after) and set(event.after) != {"0"} and not event.deleted
        return judged and event.ref.startswith("refs/heads/")
    if isinstance(event, PullRequestEvent):
        base_changed = event.action == "edited" and "base" in (event.changes or {})
        return event.action in PR_ACTIONS or base_changed
    return False


async def record(session: AsyncSession, delivery_id: str, event: Event) -> None:
    """Add the delivery's mark to the accepting transaction (nothing for other deliveries)."""
    subject = job_subject(event)
    if subject.supersede is None or subject.sha is None or not asks_for_verdict(event):
        return
    session.add(SupersedeMark(key=subject.supersede, delivery_id=delivery_id, sha=subject.sha))


async def newer_sha(sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str | None:
    """The commit of a newer delivery for the same subject, or None while this one is the
    newest (or has no mark: it supersedes nothing and nothing supersedes it)."""
    async with sessions() as session:
        mine = (
            await session.execute(
                select(SupersedeMark.id, SupersedeMark.key).where(
                    SupersedeMark.delivery_id == delivery_id
                )
            )
        ).first()
        if mine is None:
            return None
        newest = await session.scalar(
            select(SupersedeMark.sha)
            .where(SupersedeMark.key == mine.key, SupersedeMark.id > mine.id)
            .order_by(SupersedeMark.id.desc())
            .limit(1)
        )
        return newest


def context_of(*parts: str) -> str:
    """A short stable name for what decides a verdict besides the commit."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Claim:
    repository_id: int
    sha: str
    context: str
    delivery_id: str
    # a check run an earlier attempt created but could not close (reuse it, do not add one)
    open_check_run_id: int | None
    # an earlier job of this delivery held this claim, or it was taken over released: that job
    # may have created a check run it never named
    earlier: bool = False


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    repository_id: int,
    sha: str,
    context: str,
    delivery_id: str,
    rerun: bool,
) -> Claim | None:
    """Claim the commit in this context for this delivery; None when another delivery has
    judged it or is judging it (and this is no re-run the user asked for)."""
    async with sessions() as session:
        row = AnalysisClaim(
            repository_id=repository_id,
            sha=sha,
            context=context,
            delivery_id=delivery_id,
            state="running",
        )
        session.add(row)
        try:
            await session.commit()
            return Claim(repository_id, sha, context, delivery_id, None)
        except IntegrityError:
            await session.rollback()
        existing = await session.get(AnalysisClaim, (repository_id, sha, context))
        if existing is None:  # released and deleted meanwhile: never happens, claims are kept
            return None
        if existing.delivery_id == delivery_id:  # the same delivery run again (resumed)
            existing.state = "running"
            await session.commit()
            return Claim(repository_id, sha, context, delivery_id, existing.open_check_run_id, True)
        if existing.state != "released" and not rerun:
            return None
        # a job still running may be completing its own run: only a released claim's is looked up
        earlier, left_open = existing.state == "released", existing.open_check_run_id
        # take it over, unless another delivery takes it over first
        taken = await session.execute(
            update(AnalysisClaim)
            .where(
                AnalysisClaim.repository_id == repository_id,
                AnalysisClaim.sha == sha,
                AnalysisClaim.context == context,
                AnalysisClaim.delivery_id == existing.delivery_id,
                AnalysisClaim.state == existing.state,
            )
            .values(delivery_id=delivery_id, state="running", open_check_run_id=None)
        )
        await session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Claim(repository_id, sha, context, delivery_id, left_open, earlier)


async def hold_check_run(
    sessions: async_sessionmaker[AsyncSession], held: Claim, check_run_id: int
) -> None:
    """Record the check run the claim's job created, before anything else can stop the job."""
    async with sessions() as session:
        await session.execute(
            update(AnalysisClaim).where(*_held_by(held)).values(open_check_run_id=check_run_id)
        )
        await session.commit()


async def release_left(
    sessions: async_sessionmaker[AsyncSession], delivery_id: str
) -> list[tuple[str, int]]:
    """Release the claims a delivery that is not run again left `running` (its job stopped
    while GitHub was unavailable, or its process died), so the next delivery judges the commit;
    returns (sha, check run id) of the check runs its claims still name as open."""
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(AnalysisClaim).where(AnalysisClaim.delivery_id == delivery_id)
            )
        )
        for row in rows:
            if row.state == "running":
                row.state = "released"
        await session.commit()
        return [(r.sha, r.open_check_run_id) for r in rows if r.open_check_run_id is not None]


async def forget_check_run(
    sessions: async_sessionmaker[AsyncSession], delivery_id: str, check_run_id: int
) -> None:
    """The check run was completed: no claim of the delivery names it as open any more."""
    async with sessions() as session:
        await session.execute(
            update(AnalysisClaim)
            .where(
                AnalysisClaim.delivery_id == delivery_id,
                AnalysisClaim.open_check_run_id == check_run_id,
            )
            .values(open_check_run_id=None)
        )
        await session.commit()


def _held_by(held: Claim) -> tuple[Any, ...]:
    return (
        AnalysisClaim.repository_id == held.repository_id,
        AnalysisClaim.sha == held.sha,
        AnalysisClaim.context == held.context,
        AnalysisClaim.delivery_id == held.delivery_id,
    )


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    held: Claim,
    state: str,
    open_check_run_id: int | None = None,
) -> None:
    """`done` (judged, or superseded) or `released` (failed: the next delivery judges again),
    naming the check run left open, if any."""
    async with sessions() as session:
        await session.execute(
            update(AnalysisClaim)
            .where(*_held_by(held))
            .values(state=state, open_check_run_id=open_check_run_id)
        )
        await session.commit()
