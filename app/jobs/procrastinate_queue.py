"""The scale-out queue (`STOPSHIP_QUEUE=procrastinate`): one procrastinate job per delivery, in
PostgreSQL; `serve` replicas defer, `stopship worker` processes run them.

Ordering and superseding. A job's argument is the delivery id only (the payload stays in the
`deliveries` table); its procrastinate `lock` is the delivery's `job_lock`, so the jobs of one
branch or pull request run one at a time, in the order they were deferred, on any number of
workers. Every delivery gets its own job and none is ever rejected: procrastinate's
`queueing_lock` keyed by branch would make the *newer* push's defer fail while the older one
waits, and cancelling the older queued job instead races with a worker fetching it and leaves that
delivery with no outcome. With FIFO per lock the newest push is always judged last; an older one
still queued behind it is superseded inside the job (it finds the newer delivery in the database
and completes its check run neutral), which costs one quick job, not an analysis. The only
`queueing_lock` used is per delivery (`delivery:<id>`): deferring the same delivery twice (a
recovery racing the web process) is a no-op.

Nothing accepted is lost: a delivery stored but never deferred (the web process stopped between
its commit and the defer, or the defer failed), or whose job ended without recording an outcome,
is deferred again by `recover()`; a job left `doing` by a worker that died is put back in line
(keeping its place). Workers recover at start and once a minute (a periodic job). Deliveries
that never reached the App are asked of GitHub again every five minutes (another periodic job,
app/jobs/redelivery.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import procrastinate
import structlog
from procrastinate.app import WorkerOptions
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.attempts import run_admitted
from app.jobs.queue import Processor, stored_job_lock
from app.jobs.retries import release_due

log = structlog.get_logger()

RUN_DELIVERY = "stopship.run_delivery"
RECOVER = "stopship.recover"
REDELIVER = "stopship.redeliver_missed"
QUEUE_NAME = "deliveries"
# A worker whose heartbeat (every HEARTBEAT_SECONDS) is older than this is gone: its jobs are
# run again. The heartbeat is a task of the worker's event loop: analyses run in child processes
# (app/jobs/analysis_pool.py), so a slow file never stops it.
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER_SECONDS = 120.0
# A new job wakes workers at once (LISTEN/NOTIFY), but a job waiting for its lock is only seen
# again by polling once the job holding the lock ends: this bounds that wait.
POLL_SECONDS = 1.0
REDELIVER_CRON = "*/5 * * * *"  # redelivery.EVERY
# A delivery accepted this long ago with no job waiting or running for it is deferred again.
ORPHAN_GRACE = timedelta(seconds=60)

_DEPTH = text(
    "SELECT count(*) FROM procrastinate_jobs "
    "WHERE task_name = :task AND status IN ('todo', 'doing')"
)
_ORPHANS = text(
    "SELECT d.id, d.event, d.payload FROM deliveries AS d "
    "WHERE d.status IN ('accepted', 'running') "
    "AND d.received_at <= now() - make_interval(secs => :grace) "
    "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS j WHERE j.task_name = :task "
    "AND j.status IN ('todo', 'doing') AND j.args->>'delivery_id' = d.id) "
    "ORDER BY d.received_at, d.id"
)
_SCHEMA_PRESENT = text(
    "SELECT to_regclass('procrastinate_jobs') IS NOT NULL "
    "AND EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'procrastinate_fetch_job_v2')"
)


async def schema_present(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether procrastinate's tables and functions are in the database (`stopship db upgrade`
    creates them)."""
    async with sessions() as session:
        return bool(await session.scalar(_SCHEMA_PRESENT))


class ProcrastinateQueue:
    """Deliveries as procrastinate jobs. Without a `processor` it only defers (the web service);
    with one it can also run a worker (`run_worker`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conninfo: str,
        processor: Processor | None = None,
        *,
        pool_size: int = 10,
        redeliver: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._processor = processor
        self._redeliver = redeliver
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo, min_size=1, max_size=pool_size, timeout=10, name="procrastinate"
            )
        )
        self._register_tasks()

    def _register_tasks(self) -> None:
        @self.app.task(name=RUN_DELIVERY, queue=QUEUE_NAME)
        async def run_delivery(delivery_id: str) -> str:
            if self._processor is None:
                raise RuntimeError("this process defers jobs; `stopship worker` runs them")
            return await run_admitted(self._sessions, self._processor, delivery_id)

        @self.app.periodic(cron="* * * * *", periodic_id="recover")
        @self.app.task(name=RECOVER, queue=QUEUE_NAME, lock=RECOVER, queueing_lock=RECOVER)
        async def recover(timestamp: int) -> int:
            return await self.recover(ORPHAN_GRACE)

        # missed webhook deliveries asked for again (app/jobs/redelivery.py); the task's lease
        # keeps it to one process even beside `serve` processes with the inline queue
        @self.app.periodic(cron=REDELIVER_CRON, periodic_id="redeliver-missed")
        @self.app.task(name=REDELIVER, queue=QUEUE_NAME, lock=REDELIVER, queueing_lock=REDELIVER)
        async def redeliver_missed(timestamp: int) -> None:
            if self._redeliver is not None:
                await self._redeliver()

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def submit(self, delivery_id: str, lock: str) -> None:
        deferrer = self.app.configure_task(
            RUN_DELIVERY,
            lock=lock,
            queueing_lock=f"delivery:{delivery_id}",
            task_kwargs={"delivery_id": delivery_id},
        )
        try:
            job_id = await deferrer.defer_async()
        except AlreadyEnqueued:
            log.info("delivery already queued", delivery_id=delivery_id)
            return
        log.debug("delivery deferred", delivery_id=delivery_id, job_id=job_id, lock=lock)

    async def depth(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(_DEPTH, {"task": RUN_DELIVERY}) or 0)

    async def resume(self) -> int:
        """Defer every unfinished delivery that has no job waiting or running."""
        return await self._requeue_orphans(timedelta(0))

    async def drain(self) -> None:
        return None  # jobs run in `stopship worker` processes, not here

    async def recover(self, grace: timedelta) -> int:
        """Put back in line the jobs of workers that died, defer the rate-limited deliveries due
        again and the deliveries accepted more than `grace` ago that have no job; returns how
        many."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            task_name=RUN_DELIVERY, seconds_since_heartbeat=STALLED_AFTER_SECONDS
        )
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
            except ConnectorException:  # another worker retried it first
                continue
            retried += 1
            log.warning(
                "job of a lost worker queued again",
                delivery_id=job.task_kwargs.get("delivery_id"),
                job_id=job.id,
            )
        due = await release_due(self._sessions)
        for delivery_id, event, payload in due:
            await self.submit(delivery_id, stored_job_lock(delivery_id, event, payload))
        return retried + len(due) + await self._requeue_orphans(grace)

    async def _requeue_orphans(self, grace: timedelta) -> int:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    _ORPHANS, {"task": RUN_DELIVERY, "grace": grace.total_seconds()}
                )
            ).all()
        for delivery_id, event, payload in rows:
            await self.submit(delivery_id, stored_job_lock(delivery_id, event, payload))
        if rows:
            log.warning("unqueued deliveries deferred", count=len(rows))
        return len(rows)

    async def run_worker(
        self,
        concurrency: int,
        *,
        wait: bool = True,
        install_signal_handlers: bool = True,
        shutdown_timeout: float | None = None,
        name: str = "worker",
    ) -> None:
        """Run jobs until stopped (SIGTERM/SIGINT when `install_signal_handlers`, or this task
        cancelled): a stop lets running jobs finish (up to `shutdown_timeout`, if set) and starts
        no new one. Recovers first, so deliveries accepted while no worker ran are processed."""
        if self._processor is None:
            raise RuntimeError("a worker needs a processor")
        recovered = await self.recover(timedelta(0))
        if recovered:
            log.info("recovered deliveries", count=recovered)
        options: WorkerOptions = {
            "name": name,
            "concurrency": concurrency,
            "wait": wait,
            "install_signal_handlers": install_signal_handlers,
            "delete_jobs": "successful",
            "stalled_worker_timeout": STALLED_AFTER_SECONDS,
            "update_heartbeat_interval": HEARTBEAT_SECONDS,
            "fetch_job_polling_interval": POLL_SECONDS,
        }
        if shutdown_timeout is not None:  # procrastinate's default: wait for running jobs
            options["shutdown_graceful_timeout"] = shutdown_timeout
        await self.app.run_worker_async(**options)
