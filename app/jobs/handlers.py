"""What a stored delivery turns into. Bookkeeping events (installation, installation_repositories)
update the database; `ping` needs nothing. Events that ask for a commit to be judged (push,
pull_request, check_suite, check_run, merge_group) are judged when the App's credentials are
configured, and recorded as `deferred` otherwise: kept, never dropped, so they can be replayed.

Final statuses: `done`, `ignored`, `deferred`, `superseded` (a newer push to the branch or pull
request came first), `duplicate` (the commit was already judged in the same context), `failed`
(with its error) and `rate_limited` (GitHub's quota ran out; `retry_at` says when it is back).
The last two can be run again: `process()` runs any delivery that is not FINISHED."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.analyse import (
    GitHubFactory,
    JobRateLimited,
    analyse_merge_group,
    analyse_pull_request,
    analyse_push,
    analyse_rerequest,
)
from app.store.models import Delivery, Installation, Repository

log = structlog.get_logger()

ANALYSIS_EVENTS = frozenset({"push", "pull_request", "check_suite", "check_run", "merge_group"})
BOOKKEEPING_EVENTS = frozenset({"installation", "installation_repositories", "ping"})
SUPPORTED_EVENTS = ANALYSIS_EVENTS | BOOKKEEPING_EVENTS
# a delivery in one of these states is never run again (`failed` and `rate_limited` may be)
FINISHED = frozenset({"done", "ignored", "deferred", "superseded", "duplicate"})


async def process(
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    github: GitHubFactory | None = None,
) -> str:
    """Run one delivery; returns its final status. `github` gives an installation's client; without
    it (no App credentials configured) analysis events are kept as `deferred`."""
    async with sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None or delivery.status in FINISHED:
            return delivery.status if delivery else "missing"
        delivery.status = "running"
        delivery.attempts += 1
        delivery.started_at = datetime.now(UTC)
        await session.commit()
        payload: dict[str, Any] = json.loads(delivery.payload)
        retry_at: datetime | None = None
        try:
            if delivery.event == "push" and github is not None:
                status = await analyse_push(github, sessions, delivery_id, payload)
                error = None
            elif delivery.event == "pull_request" and github is not None:
                status = await analyse_pull_request(github, sessions, delivery_id, payload)
                error = None
            elif delivery.event == "merge_group" and github is not None:
                status = await analyse_merge_group(github, sessions, delivery_id, payload)
                error = None
            elif delivery.event in {"check_suite", "check_run"} and github is not None:
                status = await analyse_rerequest(
                    github, sessions, delivery_id, payload, delivery.event
                )
                error = None
            elif delivery.event in ANALYSIS_EVENTS:
                status, error = "deferred", f"analysis of {delivery.event} events is not built yet"
            else:
                await _bookkeeping(session, delivery.event, payload)
                status, error = "done", None
        except JobRateLimited as exc:
            # kept, to be run again once GitHub's quota is back (see app/jobs/analyse.py)
            await session.rollback()
            status, error, retry_at = "rate_limited", str(exc), exc.until
            log.warning("delivery rate limited", delivery=delivery_id, retry_at=str(retry_at))
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, never lost
            await session.rollback()
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            log.error("delivery failed", delivery=delivery_id, gh_event=delivery.event, error=error)
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.status, delivery.error, delivery.retry_at = status, error, retry_at
        delivery.finished_at = datetime.now(UTC)
        await session.commit()
        log.info("delivery processed", delivery=delivery_id, gh_event=delivery.event, status=status)
        return status


async def _bookkeeping(session: AsyncSession, event: str, payload: dict[str, Any]) -> None:
    if event == "ping":
        return
    installation = payload.get("installation") or {}
    installation_id = installation.get("id")
    if not isinstance(installation_id, int):
        return
    account = (installation.get("account") or {}).get("login", "")
    row = await session.get(Installation, installation_id)
    action = payload.get("action")
    if row is None:
        row = Installation(id=installation_id, account=account)
        session.add(row)
    row.suspended = action == "suspend" or (row.suspended and action != "unsuspend")
    await session.flush()
    added = payload.get("repositories") or payload.get("repositories_added") or []
    for repo in added:
        if isinstance(repo, dict) and isinstance(repo.get("id"), int):
            existing = await session.get(Repository, repo["id"])
            if existing is None:
                session.add(
                    Repository(
                        id=repo["id"],
                        installation_id=installation_id,
                        full_name=str(repo.get("full_name", "")),
                    )
                )
    removed_ids = [r["id"] for r in payload.get("repositories_removed") or [] if "id" in r]
    if removed_ids:
        rows = await session.scalars(select(Repository).where(Repository.id.in_(removed_ids)))
        for repo_row in rows:
            await session.delete(repo_row)
    await session.commit()
