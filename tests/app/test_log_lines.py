"""Every line that `stopship serve` and `stopship worker` write is a JSON object, and none holds
a secret: real processes (the inline queue on SQLite; the procrastinate queue on PostgreSQL with
a worker) receive a signed delivery and a badly signed one, judge the push against the fake
GitHub, and are stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.web.signature import sign
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_worker_command import BAD, pem, push_payload
from tests.gitrepo import git

ROOT = Path(__file__).resolve().parents[2]
SECRET = "log-capture-webhook-secret-0123456789"
__all__ = ["pem"]
# uvicorn stops gracefully, then re-raises the signal it caught
STOPPED = (0, -signal.SIGTERM)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeGitHub]:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(BAD)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    github = FakeGitHub(repo_dir=root)
    server = start(github)
    yield github
    server.shutdown()
    assert github.problems == [], github.problems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(database_url: str, queue: str, pem: str, fake: FakeGitHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOPSHIP_", "OTEL_"))}
    env.update(
        STOPSHIP_DATABASE_URL=database_url,
        STOPSHIP_QUEUE=queue,
        STOPSHIP_GITHUB_APP_ID="4242",
        STOPSHIP_GITHUB_PRIVATE_KEY=pem,
        STOPSHIP_GITHUB_WEBHOOK_SECRET=SECRET,
        STOPSHIP_GITHUB_API_URL=fake.url,
        STOPSHIP_LOG_LEVEL="debug",
        PYTHONWARNINGS="default",
    )
    return env


class Process:
    def __init__(self, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.stdout = logs.with_suffix(".out")
        self.stderr = logs.with_suffix(".err")
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, stdout=out, stderr=err
            )

    def text(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(60)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait(10)


def wait_for(condition: Callable[[], bool], what: str, *processes: Process) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        for p in processes:
            assert p.popen.poll() is None, f"exited before {what}: {p.text()}"
        assert time.monotonic() < deadline, f"no {what}: {[p.text() for p in processes]}"
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def judged(fake: FakeGitHub) -> bool:
    return any("conclusion" in c.body for c in fake.calls("PATCH", "/check-runs/"))


def deliver(base: str, fake: FakeGitHub) -> None:
    assert fake.repo_dir is not None
    body = json.dumps(push_payload(git(fake.repo_dir, "rev-parse", "HEAD"))).encode()
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "log-1"}
    signed = httpx.post(
        f"{base}/webhooks/github",
        content=body,
        headers={**headers, "X-Hub-Signature-256": sign(body, SECRET.encode())},
    )
    assert signed.status_code == 202, signed.text
    forged = httpx.post(
        f"{base}/webhooks/github",
        content=body,
        headers={**headers, "X-Hub-Signature-256": sign(body, b"not-the-secret")},
    )
    assert forged.status_code == 401, forged.text


def check_lines(process: Process, pem: str) -> list[dict[str, object]]:
    """Every line of both streams parsed as a JSON object; no secret anywhere."""
    lines: list[dict[str, object]] = []
    for stream in (process.stdout, process.stderr):
        text = stream.read_text()
        assert SECRET not in text
        for secret_line in pem.strip().splitlines()[1:-1]:
            assert secret_line not in text
        for line in text.splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                pytest.fail(f"a plain line on {stream.suffix}: {line!r}\n{text}")
            assert isinstance(parsed, dict), line
            lines.append(parsed)
    return lines


def events(lines: list[dict[str, object]]) -> list[str]:
    return [str(line.get("event")) for line in lines]


def test_serve_writes_only_json_lines_without_secrets(
    tmp_path: Path, fake: FakeGitHub, pem: str
) -> None:
    env = environment(f"sqlite+aiosqlite:///{tmp_path}/stopship.db", "inline", pem, fake)
    upgrade = Process(["db", "upgrade"], env, tmp_path / "upgrade")
    assert upgrade.popen.wait(120) == 0, upgrade.text()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Process(["serve", "--port", str(port)], env, tmp_path / "serve")
    try:
        wait_for(lambda: answers(f"{base}/healthz/live"), "answer", serve)
        deliver(base, fake)
        wait_for(lambda: judged(fake), "judged push", serve)
    finally:
        assert serve.stop() in STOPPED, serve.text()
    lines = check_lines(serve, pem)
    assert not any("color_message" in line for line in lines)
    said = events(lines)
    assert any('"POST /webhooks/github HTTP/1.1" 202' in e for e in said)  # access lines
    assert "webhook refused" in said
    assert said.index("service started") < said.index("service stopped")
    assert any("Started server process" in e for e in said)
    assert any("Shutting down" in e or "Finished server process" in e for e in said)


def test_serve_and_worker_write_only_json_lines_without_secrets(
    tmp_path: Path, fake: FakeGitHub, pem: str, postgres_url: str
) -> None:
    env = environment(postgres_url, "procrastinate", pem, fake)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Process(["serve", "--port", str(port)], env, tmp_path / "serve")
    worker = Process(["worker", "--concurrency", "1"], env, tmp_path / "worker")
    try:
        wait_for(lambda: answers(f"{base}/healthz/live"), "answer", serve, worker)
        deliver(base, fake)
        wait_for(lambda: judged(fake), "judged push", serve, worker)
    finally:
        served, worked = serve.stop(), worker.stop()
    assert served in STOPPED, serve.text()
    assert worked == 0, worker.text()
    assert "webhook refused" in events(check_lines(serve, pem))
    said = events(check_lines(worker, pem))
    assert "worker started" in said and "worker stopped" in said


def test_library_warnings_and_records_are_json_lines_without_info_chatter() -> None:
    program = (
        "import logging, warnings\n"
        "from app.logs import configure_logging\n"
        "configure_logging('json', 'info')\n"
        "warnings.warn('a deprecated call', DeprecationWarning)\n"
        "logging.getLogger('alembic.runtime.migration').warning('a library warning')\n"
        "logging.getLogger('sqlalchemy.engine.Engine').info('SELECT token FROM secrets')\n"
        "logging.getLogger('httpx').info('HTTP Request: GET /?code=secret')\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == ""
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("py.warnings", "warning"),
        ("alembic.runtime.migration", "warning"),
    ]
    assert "a deprecated call" in lines[0]["event"]
    assert "secret" not in done.stderr


def test_a_refusal_a_client_can_repeat_is_logged_once_per_interval_with_the_count_left_out() -> (
    None
):
    from app.logs import Throttle

    now = [0.0]
    throttle = Throttle(10.0, clock=lambda: now[0])
    assert throttle.due("bad_signature") == 0
    assert [throttle.due("bad_signature") for _ in range(5)] == [None] * 5
    assert throttle.due("too_large") == 0  # another outcome has its own interval
    now[0] = 10.5
    assert throttle.due("bad_signature") == 5
    assert throttle.due("bad_signature") is None
