"""A worker killed with SIGKILL in the middle of a job (after its check run was created, while it
reads the tree): the delivery is run again by the next worker, which completes the check run the
first one created. Exactly one check run, completed; none left `in_progress`. With the
procrastinate queue on PostgreSQL (a `stopship worker` process; the next worker retries the
dead worker's job) and with the inline queue on SQLite (a `stopship serve` process; the next
process resumes the unfinished delivery). A delivery whose process died on every attempt is
given up, and the check run it left open is completed saying so."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.jobs.attempts import MAX_ATTEMPTS
from app.settings import Settings
from app.store.db import make_engine, make_sessions
from app.store.migrate import upgrade
from app.store.models import AnalysisClaim, Delivery
from app.web.app import create_app
from app.web.signature import sign
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_incremental import head, repo  # noqa: F401 - fixture
from tests.app.test_procrastinate_queue import statuses, wait_until, workers
from tests.app.test_push_analysis import client, fake  # noqa: F401 - fixtures
from tests.app.test_superseding import statuses as delivery_statuses
from tests.app.test_worker_command import (  # noqa: F401 - fixtures
    BAD,
    ROOT,
    SECRET,
    HeldGitHub,
    held,
    pem,
    push_payload,
)
from tests.gitrepo import git

ARRIVAL_DEADLINE = 60.0


def _env(database_url: str, queue: str, pem: str, api_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        STOPSHIP_DATABASE_URL=database_url,
        STOPSHIP_QUEUE=queue,
        STOPSHIP_GITHUB_APP_ID="4242",
        STOPSHIP_GITHUB_PRIVATE_KEY=pem,
        STOPSHIP_GITHUB_WEBHOOK_SECRET=SECRET,
        STOPSHIP_GITHUB_API_URL=api_url,
        STOPSHIP_LOG_LEVEL="info",
    )


async def _kill_mid_job(
    command: list[str], env: dict[str, str], github: HeldGitHub | HeldCreation, log: Path
) -> None:
    """Start `stopship <command>`, wait until its job is held (by the fake GitHub), SIGKILL it."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        arrived = await asyncio.to_thread(github.arrived.wait, ARRIVAL_DEADLINE)
        assert arrived, log.read_text()
        assert len(github.check_runs) == 1  # created before the job was held
    finally:
        process.kill()  # SIGKILL: no handler, no clean-up, the job is cut where it is
        await asyncio.to_thread(process.wait, 30)
    github.release.set()  # the held request answers a process that is gone


def _assert_one_run_completed(github: FakeGitHub, sha: str) -> None:
    runs = github.check_runs[sha]
    assert len(runs) == 1, runs  # the job run again reused the run, it added none
    [run_id] = runs
    finals = [
        c.body
        for c in github.calls("PATCH", f"/check-runs/{run_id}")
        if c.body.get("status") == "completed"
    ]
    assert [f["conclusion"] for f in finals] == ["failure"]  # the verdict: a stop-ship on main
    assert finals[0]["output"]["title"].startswith("Score ")
    every_run = {run for ids in github.check_runs.values() for run in ids}
    completed = {
        int(c.path.rsplit("/", 1)[-1])
        for c in github.calls("PATCH", "/check-runs/")
        if c.body.get("status") == "completed"
    }
    assert every_run <= completed  # none left in progress


async def test_a_killed_procrastinate_worker_leaves_one_completed_check_run(
    postgres_url: str, held: HeldGitHub, pem: str, tmp_path: Path
) -> None:
    assert held.repo_dir is not None
    sha = git(held.repo_dir, "rev-parse", "HEAD")
    settings = Settings(
        database_url=postgres_url,
        queue="procrastinate",
        github_app_id=4242,
        github_private_key=pem,
        github_webhook_secret=SECRET,
        github_api_url=held.url,
    )
    engine = make_engine(postgres_url)
    sessions = make_sessions(engine)
    try:
        await _accept_push(settings, sha)
        env = _env(postgres_url, "procrastinate", pem, held.url)
        await _kill_mid_job(["worker", "--concurrency", "1"], env, held, tmp_path / "w.log")
        assert (await statuses(sessions))["k-1"] == "running"
        async with sessions() as session:  # the dead worker's heartbeat is old by now
            await session.execute(
                text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
            )
            await session.commit()

        async with workers(settings, count=1, concurrency=1):  # retries the dead worker's job
            await wait_until(lambda: _is_done(sessions, "k-1"), "the job run again")
    finally:
        await engine.dispose()
    _assert_one_run_completed(held, sha)


async def test_a_killed_inline_service_leaves_one_completed_check_run(
    held: HeldGitHub, pem: str, tmp_path: Path
) -> None:
    await _kill_inline_service_and_resume(held, pem, tmp_path)


async def test_a_service_killed_before_it_learnt_its_runs_id_reuses_that_run(
    held_creation: HeldCreation, pem: str, tmp_path: Path
) -> None:
    """Killed while GitHub's answer to the check run's creation was on its way: the run exists
    but its id was never recorded; the job run again finds it by its external id."""
    await _kill_inline_service_and_resume(held_creation, pem, tmp_path)


async def _kill_inline_service_and_resume(
    github: HeldGitHub | HeldCreation, pem: str, tmp_path: Path
) -> None:
    assert github.repo_dir is not None
    sha = git(github.repo_dir, "rev-parse", "HEAD")
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        database_url=url,
        github_app_id=4242,
        github_private_key=pem,
        github_webhook_secret=SECRET,
        github_api_url=github.url,
    )
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        async with sessions() as session:  # accepted; the service picks it up as it starts
            session.add(
                Delivery(
                    id="k-1",
                    event="push",
                    installation_id=77,
                    repository="octo/shop",
                    payload=json.dumps(push_payload(sha)),
                )
            )
            await session.commit()
        env = _env(url, "inline", pem, github.url)
        command = ["serve", "--port", str(_free_port())]
        await _kill_mid_job(command, env, github, tmp_path / "serve.log")
        assert (await statuses(sessions))["k-1"] == "running"

        app = create_app(settings)
        async with app.router.lifespan_context(app):  # resumes what the killed one left
            await wait_until(lambda: _is_done(sessions, "k-1"), "the delivery resumed")
    finally:
        await engine.dispose()
    _assert_one_run_completed(github, sha)


@dataclass
class HeldCreation(FakeGitHub):
    """The fake GitHub creating the first check run, then holding its answer until the test
    releases it."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def respond(
        self, method: str, path: str, body: Any, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        answered = super().respond(method, path, body, query)
        if method == "POST" and path.endswith("/check-runs") and not self.release.is_set():
            self.arrived.set()
            self.release.wait(14)  # under the App client's 15 s read timeout
        return answered


@pytest.fixture
def held_creation(tmp_path: Path) -> Iterator[HeldCreation]:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(BAD)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    github = HeldCreation(repo_dir=root)
    server = start(github)
    yield github
    github.release.set()
    server.shutdown()
    assert github.problems == [], github.problems


async def _accept_push(settings: Settings, sha: str) -> None:
    """The push, accepted by the web service and deferred to the queue."""
    app = create_app(settings)
    body = json.dumps(push_payload(sha)).encode()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        response = await http.post(
            "/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "k-1",
                "X-Hub-Signature-256": sign(body, SECRET.encode()),
            },
        )
        assert response.status_code == 202


async def _is_done(sessions: Any, delivery_id: str) -> bool:
    return (await statuses(sessions)).get(delivery_id) == "done"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_delivery_given_up_after_its_attempts_completes_the_run_it_left_open(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    """Its process died MAX_ATTEMPTS times mid-job (a huge push, say): it is not run again, and
    the check run its attempts created is completed `failure` saying so, not left in progress;
    the commit is left to the next delivery."""
    sha = head(repo)
    payload = push_payload(sha)
    app = client.app  # type: ignore[attr-defined]
    claim = AnalysisClaim(
        repository_id=payload["repository"]["id"],
        sha=sha,
        context="ctx",
        delivery_id="k-1",
        state="running",
        open_check_run_id=4711,
    )
    async with app.state.sessions() as session:
        session.add(
            Delivery(
                id="k-1",
                event="push",
                installation_id=77,
                repository="octo/shop",
                payload=json.dumps(payload),
                status="running",
                attempts=MAX_ATTEMPTS,
            )
        )
        session.add(claim)
        await session.commit()
    assert await app.state.queue.resume() == 1
    await app.state.queue.drain()

    assert (await delivery_statuses(client))["k-1"] == "failed"
    [final] = [c.body for c in fake.calls("PATCH", "/check-runs/4711")]
    assert (final["status"], final["conclusion"]) == ("completed", "failure")
    assert f"gave up after {MAX_ATTEMPTS} attempts" in final["output"]["summary"]
    assert fake.count("POST", "/check-runs") == 0  # not run again
    async with app.state.sessions() as session:
        row = await session.get(AnalysisClaim, (claim.repository_id, sha, "ctx"))
        assert row is not None
        assert (row.state, row.open_check_run_id) == ("released", None)
