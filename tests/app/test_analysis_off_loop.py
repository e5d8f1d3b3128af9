"""Analyses run in child processes (app/jobs/analysis_pool.py), never on the event loop's thread
or under its GIL: while a file that takes hours is being analysed (ast-grep holds the GIL for
the whole query), the inline `serve` answers its health checks and a worker's heartbeat goes
on, so no healthy worker is declared lost and no delivery runs twice."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.budget import AnalysisProcesses, AnalysisStopped
from app.engine.ruleset import Ruleset, default_rules_dir, load_ruleset
from app.jobs import analyse, analysis_pool, procrastinate_queue
from app.jobs.commit_files import CommitReader
from app.jobs.procrastinate_queue import ProcrastinateQueue
from app.store.db import libpq_conninfo
from tests.app.app_harness import accept, running_app
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_procrastinate_queue import (
    DEADLINE,
    database,
    queue_settings,
    statuses,
    store,
    wait_until,
    workers,
)
from tests.app.test_push_analysis import push_payload
from tests.engine.test_budget import HOSTILE, SLOW_RULES
from tests.gitrepo import git

SLOW_FILE = "src/app.js"


@pytest.fixture(scope="module")
def slow_rules(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    """The shipped rules and one that takes hours on HOSTILE."""
    directory = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(default_rules_dir(), directory)
    (directory / "slow.yml").write_text(SLOW_RULES)
    return load_ruleset(directory)


@pytest.fixture
def analysing(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Set once SLOW_FILE is handed to an analysis process; every process is killed after."""
    started = threading.Event()
    original = AnalysisProcesses.analyze

    def observed(self: AnalysisProcesses, path: str, data: bytes) -> object:
        if path == SLOW_FILE:
            started.set()
        return original(self, path, data)

    monkeypatch.setattr(AnalysisProcesses, "analyze", observed)
    yield started
    analysis_pool.close_all()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "src").mkdir(parents=True)
    (root / SLOW_FILE).write_bytes(HOSTILE)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


@pytest.fixture
def fake(repo: Path) -> Iterator[FakeGitHub]:
    github = FakeGitHub(repo_dir=repo)
    server = start(github)
    yield github
    server.shutdown()


async def test_inline_serve_answers_health_checks_while_a_file_is_analysed(
    database_url: str,
    fake: FakeGitHub,
    repo: Path,
    slow_rules: Ruleset,
    analysing: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(analyse, "ruleset", lambda: slow_rules)
    await _started(slow_rules)
    async with running_app(database_url, fake) as http:
        await accept(http, "push", push_payload(git(repo, "rev-parse", "HEAD")), "slow-1")
        assert await asyncio.to_thread(analysing.wait, DEADLINE)
        for route in ("/healthz/live", "/healthz/ready"):
            response = await asyncio.wait_for(http.get(route), DEADLINE)
            assert response.status_code == 200, route
        sessions = http.app.state.sessions  # type: ignore[attr-defined]
        assert (await statuses(sessions))["slow-1"] == "running"  # the file is still analysed
        analysis_pool.close_all()  # the service stops: the job ends, unfinished


async def test_a_worker_keeps_its_heartbeat_while_a_file_is_analysed(
    postgres_url: str,
    slow_rules: Ruleset,
    analysing: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(procrastinate_queue, "HEARTBEAT_SECONDS", 0.1)
    settings = queue_settings(postgres_url)
    stopped: list[BaseException] = []
    ended = asyncio.Event()

    async def processor(sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> str:
        # what a push job does with each file it fetched (CommitReader._analyse)
        reader = CommitReader(None, "octo", "shop", sessions, slow_rules)  # type: ignore[arg-type]
        try:
            await reader._analyse(SLOW_FILE, HOSTILE)
        except AnalysisStopped as exc:
            stopped.append(exc)
        finally:
            ended.set()
        return "stopped"

    await _started(slow_rules)

    async with database(postgres_url) as sessions:
        deferring = ProcrastinateQueue(sessions, libpq_conninfo(postgres_url))
        await deferring.open()
        await store(sessions, "slow-2")
        await deferring.submit("slow-2", "repo:slow")
        await deferring.close()
        async with workers(settings, count=1, concurrency=1, processor=processor):
            assert await asyncio.to_thread(analysing.wait, DEADLINE)
            for _ in range(3):  # beat after beat while the file is analysed
                last = await _heartbeat(sessions)
                await wait_until(lambda: _beat_since(sessions, last), "a heartbeat")
            assert not ended.is_set()  # still analysing
            analysis_pool.close_all()
            await asyncio.wait_for(ended.wait(), DEADLINE)
    assert len(stopped) == 1  # killed while analysing: the file never finished


async def _heartbeat(sessions: async_sessionmaker[AsyncSession]) -> object:
    async with sessions() as session:
        return (
            await session.execute(text("SELECT max(last_heartbeat) FROM procrastinate_workers"))
        ).scalar_one()


async def _beat_since(sessions: async_sessionmaker[AsyncSession], last: object) -> bool:
    return await _heartbeat(sessions) != last


async def _started(rules: Ruleset) -> None:
    """The analysis process is up (it loads the ruleset first): the slow file goes straight in."""
    pool = analysis_pool.processes_for(rules)
    await asyncio.to_thread(pool.analyze, "src/warm.js", b"x;\n")
