"""`stopship worker` and `stopship db upgrade` with PostgreSQL: the procrastinate schema comes
with the migrations (idempotently), `serve` and `worker` refuse a database without it, settings
errors name the variables; a real `stopship worker` process analyses a push against the fake
GitHub, and on SIGTERM finishes the job it is running and starts no other."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from app.store.db import make_engine, make_sessions
from app.store.migrate import head_revision
from app.web.app import create_app
from app.web.signature import sign
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_procrastinate_queue import jobs, statuses, wait_until, workers
from tests.app.test_webhook import example
from tests.gitrepo import git

ROOT = Path(__file__).resolve().parents[2]
SECRET = "worker-secret"
BAD = "def find(c, name):\n    c.execute(f\"SELECT id FROM users WHERE name = '{name}'\")\n"
runner = CliRunner()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _sql(url: str, statement: str) -> Any:
    connection = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        if statement.startswith("SELECT"):
            return await connection.fetchval(statement)
        return await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, pem: str) -> None:
    monkeypatch.setenv("STOPSHIP_GITHUB_APP_ID", "4242")
    monkeypatch.setenv("STOPSHIP_GITHUB_PRIVATE_KEY", pem)
    monkeypatch.setenv("STOPSHIP_GITHUB_WEBHOOK_SECRET", SECRET)


def test_db_upgrade_applies_the_procrastinate_schema_idempotently(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_sql(postgres_database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", postgres_database)
    for _ in range(2):
        result = runner.invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
    assert asyncio.run(_sql(postgres_database, "SELECT to_regclass('procrastinate_jobs')"))
    assert asyncio.run(_sql(postgres_database, "SELECT version_num FROM alembic_version")) == (
        head_revision()
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_a_database_without_the_procrastinate_schema(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, app_env: None, command: str
) -> None:
    asyncio.run(_sql(postgres_url, "DROP TABLE procrastinate_jobs CASCADE"))
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", postgres_url)
    monkeypatch.setenv("STOPSHIP_QUEUE", "procrastinate")
    result = runner.invoke(cli, [command])
    assert result.exit_code == 2
    assert "no procrastinate schema" in result.stderr
    assert "stopship db upgrade" in result.stderr


def test_the_worker_refuses_an_unmigrated_database(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, app_env: None
) -> None:
    asyncio.run(_sql(postgres_database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", postgres_database)
    monkeypatch.setenv("STOPSHIP_QUEUE", "procrastinate")
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "stopship db upgrade" in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker", "db"])
def test_procrastinate_with_sqlite_is_refused_naming_both_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_env: None, command: str
) -> None:
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/s.db")
    monkeypatch.setenv("STOPSHIP_QUEUE", "procrastinate")
    result = runner.invoke(cli, [command, "upgrade"] if command == "db" else [command])
    assert result.exit_code == 2
    assert "STOPSHIP_QUEUE=procrastinate" in result.stderr
    assert "STOPSHIP_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.output


def test_the_worker_needs_the_procrastinate_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_env: None
) -> None:
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/s.db")
    monkeypatch.delenv("STOPSHIP_QUEUE", raising=False)
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "STOPSHIP_QUEUE: `stopship worker` runs the procrastinate queue" in result.stderr


@dataclass
class HeldGitHub(FakeGitHub):
    """The fake GitHub, holding the first tree request until the test releases it: a job
    that is certainly running when the worker is told to stop."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def respond(
        self, method: str, path: str, body: Any, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        if method == "GET" and "/git/trees/" in path and not self.release.is_set():
            self.arrived.set()
            self.release.wait(14)  # under the App client's 15 s read timeout
        return super().respond(method, path, body, query)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldGitHub]:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(BAD)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    github = HeldGitHub(repo_dir=root)
    server = start(github)
    yield github
    github.release.set()
    server.shutdown()
    assert github.problems == [], github.problems


def push_payload(sha: str, branch: str = "main") -> dict[str, Any]:
    payload = copy.deepcopy(example("push"))
    payload.update(after=sha, ref=f"refs/heads/{branch}", deleted=False)
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    return payload


async def test_a_worker_process_stopped_with_sigterm_finishes_its_running_job(
    postgres_url: str, held: HeldGitHub, pem: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=postgres_url,
        queue="procrastinate",
        github_app_id=4242,
        github_private_key=pem,
        github_webhook_secret=SECRET,
        github_api_url=held.url,
    )
    assert held.repo_dir is not None
    first = git(held.repo_dir, "rev-parse", "HEAD")
    (held.repo_dir / "README.md").write_text("shop\n")
    git(held.repo_dir, "add", ".")
    git(held.repo_dir, "commit", "-qm", "second")
    second = git(held.repo_dir, "rev-parse", "HEAD")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        # two pushes to two branches (neither supersedes the other); the worker runs one job
        # at a time, so the second is still queued when the worker is stopped
        for delivery_id, sha, branch in (("w-1", first, "main"), ("w-2", second, "feature/x")):
            body = json.dumps(push_payload(sha, branch)).encode()
            response = await http.post(
                "/webhooks/github",
                content=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": delivery_id,
                    "X-Hub-Signature-256": sign(body, SECRET.encode()),
                },
            )
            assert response.status_code == 202
    log_file = tmp_path / "worker.log"
    env = dict(
        os.environ,
        STOPSHIP_DATABASE_URL=postgres_url,
        STOPSHIP_QUEUE="procrastinate",
        STOPSHIP_GITHUB_APP_ID="4242",
        STOPSHIP_GITHUB_PRIVATE_KEY=pem,
        STOPSHIP_GITHUB_API_URL=held.url,
        STOPSHIP_LOG_LEVEL="info",
    )
    env.pop("STOPSHIP_GITHUB_WEBHOOK_SECRET", None)  # the worker needs none
    with log_file.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--concurrency", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert await asyncio.to_thread(held.arrived.wait, 60), log_file.read_text()
        worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while "stopping_worker" not in log_file.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log_file.read_text()
            await asyncio.sleep(0.05)
        held.release.set()  # the running job may now finish
        assert await asyncio.to_thread(worker.wait, 30) == 0, log_file.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)

    engine = make_engine(postgres_url)
    sessions = make_sessions(engine)
    try:
        assert await statuses(sessions) == {"w-1": "done", "w-2": "accepted"}
        assert [(j["args"], j["status"]) for j in await jobs(sessions)] == [
            ({"delivery_id": "w-2"}, "todo")
        ]
        completed = [c for c in held.calls("PATCH", "/check-runs/") if "conclusion" in c.body]
        assert completed[-1].body["conclusion"] == "failure"  # a stop-ship on main
        log_lines = [
            json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")
        ]
        assert any(line.get("delivery_id") == "w-1" for line in log_lines)

        # the delivery left queued is run by the next worker
        async with workers(settings, count=1, concurrency=1):
            await wait_until(
                lambda: _status_is(sessions, "w-2", "done"), "the next worker to run w-2"
            )

    finally:
        await engine.dispose()


async def _status_is(sessions: Any, delivery_id: str, wanted: str) -> bool:
    return (await statuses(sessions)).get(delivery_id) == wanted
