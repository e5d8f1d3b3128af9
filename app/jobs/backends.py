"""What a process runs deliveries with, from the settings: the processor both queues call
(`process()` with the App's GitHub clients, built once per process) and the web service's queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from githubkit import AppAuthStrategy, GitHub
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github.client import app_client, installation_client
from app.github.token_cache import SharedTokenCache
from app.jobs.analyse import GitHubFactory
from app.jobs.handlers import abandon, process
from app.jobs.queue import DeliveryQueue, InlineQueue, Processor
from app.jobs.redelivery import RecoveryRun, redeliver_missed
from app.metrics import Metrics, recording
from app.settings import Settings
from app.store.db import libpq_conninfo
from app.tracing import job_span


def app_github(
    settings: Settings, sessions: async_sessionmaker[AsyncSession] | None = None
) -> GitHub[AppAuthStrategy] | None:
    """The App's own client (its JWT; installation clients derive from it), or None when the
    App is not configured. With the database at hand, tokens are shared with every other
    process of the App."""
    if settings.github_app_id is None:
        return None
    if settings.github_private_key is not None:
        key = settings.github_private_key.get_secret_value()
    elif settings.github_private_key_file is not None:
        key = settings.github_private_key_file.read_text()
    else:
        return None
    tokens = SharedTokenCache(sessions, key) if sessions is not None else None
    return app_client(settings.github_app_id, key, settings.github_api_url, tokens)


def github_factory(
    settings: Settings, sessions: async_sessionmaker[AsyncSession] | None = None
) -> GitHubFactory | None:
    """Installation clients from the App's credentials (one client per installation, so token
    caches are not shared), or None when the App is not configured."""
    app_gh = app_github(settings, sessions)
    if app_gh is None:
        return None
    clients: dict[int, Any] = {}

    def for_installation(installation_id: int) -> Any:
        if installation_id not in clients:
            clients[installation_id] = installation_client(app_gh, installation_id)
        return clients[installation_id]

    return for_installation


def make_redeliverer(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Callable[[], Awaitable[RecoveryRun]] | None:
    """One run of the missed-deliveries task (app/jobs/redelivery.py) as the App, or None when
    the App is not configured."""
    app_gh = app_github(settings, sessions)
    if app_gh is None:
        return None
    gh = app_gh

    async def run() -> RecoveryRun:
        return await redeliver_missed(sessions, gh)

    return run


def make_processor(
    settings: Settings,
    github: GitHubFactory | None = None,
    metrics: Metrics | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Processor:
    """`process(sessions, delivery_id, github)` with this process's GitHub clients (`github`,
    or the ones the settings describe, sharing tokens through `sessions`' database), recording
    into `metrics` when given."""
    return DeliveryProcessor(github or github_factory(settings, sessions), metrics)


class DeliveryProcessor:
    """`process()` with this process's GitHub clients; `abandon` completes the check runs a
    delivery given up on (app/jobs/attempts.py) left open."""

    def __init__(self, github: GitHubFactory | None, metrics: Metrics | None) -> None:
        self._github = github
        self._metrics = metrics

    async def __call__(self, sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str:
        with job_span("process delivery", delivery_id=delivery_id):
            if self._metrics is None:
                return await process(sessions, delivery_id, self._github)
            with recording(self._metrics):
                return await process(sessions, delivery_id, self._github)

    async def abandon(
        self, sessions: async_sessionmaker[AsyncSession], delivery_id: str, reason: str
    ) -> None:
        await abandon(sessions, delivery_id, self._github, reason)


def make_queue(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], processor: Processor
) -> DeliveryQueue:
    """The web service's queue: inline (runs `processor` in this process) or procrastinate (only
    defers; `stopship worker` runs the jobs)."""
    if settings.queue == "procrastinate":
        from app.jobs.procrastinate_queue import ProcrastinateQueue

        return ProcrastinateQueue(sessions, libpq_conninfo(settings.database_url))
    return InlineQueue(sessions, processor, settings.inline_concurrency)
