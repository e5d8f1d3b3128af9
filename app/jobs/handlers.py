"""What a stored delivery turns into. Bookkeeping events (installation, installation_repositories)
update the database; `ping` needs nothing. Events that ask for a commit to be judged (push,
pull_request, check_suite, check_run, merge_group), comment commands (issue_comment) and
deployment gates (deployment_protection_rule) run their job when the App's credentials are
configured; without them they are recorded as `deferred`: kept, never dropped, so they can be
replayed.

Final statuses: `done`, `ignored`, `deferred`, `superseded` (a newer push to the branch or pull
request came first), `duplicate` (the commit was already judged in the same context), `failed`
(with its error), `rate_limited` (GitHub's quota ran out; `retry_at` says when it is back) and
`retrying` (GitHub was unavailable: a 5xx, a timeout, a lost connection; tried again at
`retry_at`, with back-off, until a deadline after which it is `failed` with the reason:
app/jobs/retries.py). The last three can be run again: `process()` runs any delivery that is not
FINISHED. A delivery that will not run again leaves no check run `in_progress`
(app/jobs/left_open.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github import outages
from app.github.events import Event, InstallationEvent, MalformedDelivery, parse_stored
from app.jobs.analyse import GitHubFactory, JobRateLimited
from app.jobs.commands import run_command
from app.jobs.deployment_gate import gate_deployment
from app.jobs.intake import (
    analyse_merge_group,
    analyse_pull_request,
    analyse_push,
    analyse_rerequest,
)
from app.jobs.left_open import close_left_open
from app.jobs.retries import after_outage
from app.store.models import Delivery, Installation, Repository

log = structlog.get_logger()

BOOKKEEPING_EVENTS = frozenset({"installation", "installation_repositories", "ping"})
# a delivery in one of these states is never run again (`failed`, `rate_limited` and
# `retrying` may be)
FINISHED = frozenset({"done", "ignored", "deferred", "superseded", "duplicate"})


Job = Callable[[GitHubFactory, async_sessionmaker[AsyncSession], str, Event], Awaitable[str]]


# event -> the job that needs the App's credentials (each job decides which actions it handles)
JOBS: dict[str, Job] = {
    "push": analyse_push,
    "pull_request": analyse_pull_request,
    "merge_group": analyse_merge_group,
    "check_suite": analyse_rerequest,
    "check_run": analyse_rerequest,
    "issue_comment": run_command,
    "deployment_protection_rule": gate_deployment,
}
# events whose job needs the App's credentials (kept `deferred` without them)
ANALYSIS_EVENTS = frozenset(JOBS)
SUPPORTED_EVENTS = ANALYSIS_EVENTS | BOOKKEEPING_EVENTS


async def process(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    github: GitHubFactory | None = None,
) -> str:
    """Run one delivery; returns its final status. `github` gives an installation's client; without
    it (no App credentials configured) analysis events are kept as `deferred`. A job that raises
    is recorded on the delivery as `failed` with its error, never lost. Every log line written
    while it runs carries `delivery_id` (GitHub's X-GitHub-Delivery: the correlation id)."""
    with structlog.contextvars.bound_contextvars(delivery_id=delivery_id):
        return await _run(sessions, delivery_id, github)


async def _run(
    sessions: async_sessionmaker[AsyncSession], delivery_id: str, github: GitHubFactory | None
) -> str:
    async with sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.status in FINISHED:
            return delivery.status if delivery else "missing"
        delivery.status = "running"
        delivery.attempts += 1
        delivery.started_at = datetime.now(UTC)
        event = delivery.event  # read now: a rollback below expires the row
        raw = delivery.payload
        failing_since = delivery.failing_since
        await session.commit()
        job = JOBS.get(event)
        error: str | None = None
        retry_at: datetime | None = None
        parsed: Event | None = None
        try:
            parsed = parse_stored(event, raw)  # once: every job reads the typed event
            if job is not None and github is not None:
                status = await job(github, sessions, delivery_id, parsed)
            elif event in ANALYSIS_EVENTS:
                status, error = "deferred", f"{event} needs the GitHub App's credentials"
            else:
                await _bookkeeping(session, event, parsed)
                status = "done"
        except JobRateLimited as exc:
            # kept, to be run again once GitHub's quota is back (see app/jobs/analyse.py)
            await session.rollback()
            status, error, retry_at = "rate_limited", str(exc), exc.until
            log.warning("delivery rate limited", delivery=delivery_id, retry_at=str(retry_at))
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, never lost
            await session.rollback()
            if outages.is_outage(exc):
                status, error, retry_at, failing_since = _outage_outcome(exc, failing_since)
            else:
                status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                log.error("delivery failed", delivery=delivery_id, gh_event=event, error=error)
        if status not in ("retrying", "rate_limited") and github is not None and job is not None:
            await _close_left_open(github, sessions, delivery_id, parsed, status, error)
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.status, delivery.error, delivery.retry_at = status, error, retry_at
        delivery.failing_since = failing_since if status == "retrying" else None
        delivery.finished_at = datetime.now(UTC)
        await session.commit()
        log.info("delivery processed", delivery=delivery_id, gh_event=event, status=status)
        return status


async def abandon(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    github: GitHubFactory | None,
    reason: str,
) -> None:
    """A delivery recorded as failed without running again (its attempts spent): complete the
    check runs its stopped attempts left open, with `reason`."""
    async with sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.event not in JOBS or github is None:
            return
        event, raw = delivery.event, delivery.payload
    try:
        parsed = parse_stored(event, raw)
    except MalformedDelivery:
        return
    await _close_left_open(github, sessions, delivery_id, parsed, "failed", reason)


def _outage_outcome(
    exc: Exception, failing_since: datetime | None
) -> tuple[str, str, datetime | None, datetime]:
    """Status, error, retry time and outage start of a delivery GitHub's outage stopped: tried
    again with back-off, or failed once the outage has lasted past the deadline."""
    retry = after_outage(failing_since, datetime.now(UTC))
    problem = outages.describe(exc)[:1000]
    since = f"{retry.failing_since:%Y-%m-%d %H:%M:%S} UTC"
    if retry.retry_at is None:
        log.error("GitHub unavailable: delivery given up", since=since, error=problem)
        error = f"GitHub was unavailable from {since} until stopship gave up: {problem}"
        return "failed", error, None, retry.failing_since
    log.warning("GitHub unavailable: delivery retried", retry_at=str(retry.retry_at), error=problem)
    error = f"GitHub unavailable since {since} ({problem}); tried again at {retry.retry_at:%X}"
    return "retrying", error, retry.retry_at, retry.failing_since


async def _close_left_open(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    parsed: Event | None,
    status: str,
    error: str | None,
) -> None:
    """No check run of a delivery that is not run again stays `in_progress`
    (app/jobs/left_open.py); a failure to do so is logged, the outcome stays recorded."""
    if parsed is None or parsed.installation is None or parsed.repository is None:
        return
    try:
        await close_left_open(github, sessions, delivery_id, parsed.place, status, error)
    except Exception:  # the database or GitHub went away: the next delivery reuses the run
        log.exception("could not complete the check runs left open", delivery=delivery_id)


async def _bookkeeping(session: AsyncSession, event: str, parsed: Event) -> None:
    """Installations and their repositories. Removals mark rows instead of deleting them, so
    analyses, findings and waivers survive and come back with a re-install."""
    if not isinstance(parsed, InstallationEvent) or parsed.installation is None:
        return
    installation_id = parsed.installation.id
    now = datetime.now(UTC)
    account = parsed.installation.account.login if parsed.installation.account else ""
    row = await session.get(Installation, installation_id)
    action = parsed.action
    if row is None:
        row = Installation(id=installation_id, account=account)
        session.add(row)
    row.suspended = action == "suspend" or (row.suspended and action != "unsuspend")
    if event == "installation":
        row.deleted_at = now if action == "deleted" else None
    await session.flush()
    added = parsed.repositories or parsed.repositories_added or []
    if event == "installation" and action == "deleted":
        added = []
        removed_ids = list(
            await session.scalars(
                select(Repository.id).where(Repository.installation_id == installation_id)
            )
        )
    else:
        removed_ids = [r.id for r in parsed.repositories_removed or []]
    for repo in added:
        existing = await session.get(Repository, repo.id)
        if existing is None:
            existing = Repository(
                id=repo.id, installation_id=installation_id, full_name=repo.full_name
            )
            session.add(existing)
        else:  # added again (or renamed, or moved to this installation)
            existing.removed_at = None
            existing.installation_id = installation_id
            existing.full_name = repo.full_name or existing.full_name
        if repo.private is not None:  # the readiness badge is served for public ones only
            existing.private = repo.private
    if removed_ids:
        rows = await session.scalars(select(Repository).where(Repository.id.in_(removed_ids)))
        for repo_row in rows:
            repo_row.removed_at = now
    await session.commit()
