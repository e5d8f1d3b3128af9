"""Missed webhook deliveries, asked for again. GitHub does not retry a delivery that failed: one
answered 503 while the database was away, or that never reached the App at all, is lost unless
someone presses Redeliver. This periodic task does it for them.

A run lists the App's recent deliveries through GitHub's API (`GET /app/hook/deliveries`, as the
App), keeps the events the App handles whose GUID is not in the `deliveries` table (the webhook
route stores X-GitHub-Delivery before it answers 202, so an event stored here reached us),
and asks GitHub to redeliver each (`POST /app/hook/deliveries/{id}/attempts`), oldest first:

- once per event: every request is remembered (`redelivery_requests`), so a second run does not
  ask again, even if the redelivery fails too; GitHub's redelivery carries the same GUID, so the
  webhook route's duplicate check keeps a late original and its redelivery from running twice;
- only within WINDOW (GitHub keeps three days of deliveries), at most MAX_PER_RUN requests and
  RUN_BUDGET of time per run (the rest wait for the next run); attempts younger than SETTLE may
  still be in flight;
- not for answers a redelivery would get again (400 malformed, 413 too large);
- one process at a time, through a lease row in the database, whichever queue runs it: the
  procrastinate workers (a periodic task) or `serve` with the inline queue (a loop every EVERY).

Each run logs one line, `queue-recovery`, with its counts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import structlog
from githubkit import AppAuthStrategy, GitHub
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.github.hook_deliveries import PER_PAGE, HookDelivery, ask_redelivery, recent_deliveries
from app.jobs.handlers import SUPPORTED_EVENTS
from app.store.leases import lease
from app.store.models import Delivery, RedeliveryRequest

log = structlog.get_logger()

LEASE = "redeliver-missed"
EVERY = timedelta(minutes=5)
WINDOW = timedelta(hours=24)
MAX_PER_RUN = 50
MAX_PAGES = 20  # 2,000 attempts listed per run at most
SETTLE = timedelta(seconds=60)
RUN_BUDGET = timedelta(minutes=5)  # no new request after this: the rest waits for the next run
LEASE_TTL = timedelta(minutes=10)  # longer than a run can take (its budget + one request)
HOPELESS = frozenset({400, 413})  # the same body would get the same answer
_CHUNK = 500  # GUIDs per IN (...) look-up


@dataclass
class RecoveryRun:
    """What one run saw and did."""

    held: bool = True  # False: another process ran it (nothing was asked)
    listed: int = 0  # attempts GitHub listed in the window
    unreadable: int = 0  # listed items that were not a delivery as described
    missed: int = 0  # events the App handles that never reached the `deliveries` table
    already_asked: int = 0  # of those, asked for in an earlier run
    redelivered: int = 0  # redeliveries GitHub accepted in this run
    refused: int = 0  # redeliveries GitHub refused (4xx): not asked again
    postponed: int = 0  # beyond this run's bound (or after an error): the next run asks
    failed: int = 0  # requests that failed (the run stops at the first)


async def redeliver_missed(
    sessions: async_sessionmaker[AsyncSession],
    gh: GitHub[AppAuthStrategy],
    *,
    now: datetime | None = None,
    window: timedelta = WINDOW,
    limit: int = MAX_PER_RUN,
    max_pages: int = MAX_PAGES,
    per_page: int = PER_PAGE,
) -> RecoveryRun:
    """One run of the task (see the module's docstring); returns its counts."""
    now = now or datetime.now(UTC)
    async with lease(sessions, LEASE, LEASE_TTL) as held:
        run = RecoveryRun(held=held)
        if held:
            try:
                await _recover(sessions, gh, run, now, window, limit, max_pages, per_page)
            finally:
                log.info("queue-recovery", **asdict(run))
        else:
            log.info("queue-recovery", **asdict(run))
    return run


async def _recover(
    sessions: async_sessionmaker[AsyncSession],
    gh: GitHub[AppAuthStrategy],
    run: RecoveryRun,
    now: datetime,
    window: timedelta,
    limit: int,
    max_pages: int,
    per_page: int,
) -> None:
    deadline = time.monotonic() + RUN_BUDGET.total_seconds()
    attempts, run.unreadable = await recent_deliveries(
        gh, now - window, max_pages, per_page, deadline
    )
    run.listed = len(attempts)
    by_guid: dict[str, list[HookDelivery]] = {}
    for attempt in attempts:
        if attempt.event in SUPPORTED_EVENTS:
            by_guid.setdefault(attempt.guid, []).append(attempt)
    settled = {
        guid: tries
        for guid, tries in by_guid.items()
        if max(t.delivered_at for t in tries) <= now - SETTLE
    }
    stored = await _known(sessions, Delivery.id, list(settled))
    missed = sorted(
        (tries for guid, tries in settled.items() if guid not in stored and _worth_asking(tries)),
        key=lambda tries: min(t.delivered_at for t in tries),
    )
    run.missed = len(missed)
    asked = await _known(sessions, RedeliveryRequest.guid, [t[0].guid for t in missed])
    for tries in missed:
        latest = max(tries, key=lambda t: t.delivered_at)
        if latest.guid in asked:
            run.already_asked += 1
        elif run.redelivered + run.refused >= limit or run.failed or time.monotonic() > deadline:
            run.postponed += 1
        else:
            await _ask(sessions, gh, run, latest, now)
    await _forget_before(sessions, now - 2 * window)


def _worth_asking(tries: Sequence[HookDelivery]) -> bool:
    latest = max(tries, key=lambda t: t.delivered_at)
    return latest.status_code not in HOPELESS


async def _ask(
    sessions: async_sessionmaker[AsyncSession],
    gh: GitHub[AppAuthStrategy],
    run: RecoveryRun,
    attempt: HookDelivery,
    now: datetime,
) -> None:
    try:
        outcome = await ask_redelivery(gh, attempt.id)
    except Exception as exc:  # noqa: BLE001 - counted and logged; the next run asks again
        run.failed += 1
        log.warning("redelivery not asked", guid=attempt.guid, error=type(exc).__name__)
        return
    if outcome == "accepted":
        run.redelivered += 1
    else:
        run.refused += 1
    async with sessions() as session:
        session.add(
            RedeliveryRequest(
                guid=attempt.guid,
                hook_delivery_id=attempt.id,
                event=attempt.event,
                outcome=outcome,
                asked_at=now,
            )
        )
        await session.commit()


async def _known(
    sessions: async_sessionmaker[AsyncSession], column: InstrumentedAttribute[str], guids: list[str]
) -> set[str]:
    """Which of `guids` a table holds (by its GUID `column`)."""
    found: set[str] = set()
    async with sessions() as session:
        for start in range(0, len(guids), _CHUNK):
            chunk = guids[start : start + _CHUNK]
            found.update(await session.scalars(select(column).where(column.in_(chunk))))
    return found


async def _forget_before(sessions: async_sessionmaker[AsyncSession], cutoff: datetime) -> None:
    """Requests older than GitHub's listing can show are kept no longer."""
    async with sessions() as session:
        await session.execute(delete(RedeliveryRequest).where(RedeliveryRequest.asked_at < cutoff))
        await session.commit()
