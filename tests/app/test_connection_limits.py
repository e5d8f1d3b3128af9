"""`stopship serve` against slow-loris clients, on 127.0.0.1: a request head that does not arrive
within --header-timeout is cut off, a connection beyond --limit-concurrency is answered 503 at
once, and when file descriptors run out the accept errors are logged at a bounded rate."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.logs import OncePer
from app.store.migrate import upgrade

HEAD = b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # never finished


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start listening")


def get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        return b"".join(iter(lambda: s.recv(65536), b""))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n")
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    upgrade(url)
    env = {
        **os.environ,
        "STOPSHIP_DATABASE_URL": url,
        "STOPSHIP_GITHUB_APP_ID": "1",
        "STOPSHIP_GITHUB_PRIVATE_KEY_FILE": str(key),
        "STOPSHIP_GITHUB_WEBHOOK_SECRET": "s3cret",
    }
    port = free_port()
    command = [
        sys.executable, "-m", "app.cli", "serve", "--port", str(port),
        "--header-timeout", "3", "--limit-concurrency", "4",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_head_slower_than_the_header_timeout_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=20) as loris:
        loris.sendall(HEAD)
        started = time.monotonic()
        assert loris.recv(1024) == b""  # closed by the server, nothing answered
        assert time.monotonic() - started < 15
    assert b'"ok"' in get(server, "/healthz/live")


def test_a_connection_beyond_the_limit_is_answered_503_at_once(server: int) -> None:
    held = [socket.create_connection(("127.0.0.1", server), timeout=20) for _ in range(4)]
    try:
        for s in held:
            s.sendall(HEAD)
        with socket.create_connection(("127.0.0.1", server), timeout=20) as extra:
            assert extra.recv(1024).startswith(b"HTTP/1.1 503")
    finally:
        for s in held:
            s.close()


ACCEPT_FLOOD = """
import resource, sys, uvicorn
from app.settings import Settings
from app.web.serve import configure_server_logging
resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
configure_server_logging(Settings(log_level="info"))

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="asyncio", log_config=None)
"""


def test_accept_errors_when_descriptors_run_out_are_logged_at_a_bounded_rate(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", ACCEPT_FLOOD, str(port)],
        stderr=open(tmp_path / "server.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    clients: list[socket.socket] = []
    try:
        wait_until_listening(port, process)
        for _ in range(120):  # more than the server's 48 descriptors: accept() fails
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        log = tmp_path / "server.log"
        deadline = time.monotonic() + 20
        while b"out of system resource" not in log.read_bytes():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
        for s in clients:  # descriptors come back: the server accepts again
            s.close()
        clients.clear()
        assert get(port, "/").startswith(b"HTTP/1.1 200")
    finally:
        for s in clients:
            s.close()
        process.terminate()
        process.wait(timeout=30)
    text = (tmp_path / "server.log").read_text()
    assert 1 <= text.count("socket.accept() out of system resource") <= 3
    assert len(text) < 50_000, f"{len(text)} bytes of log"


def test_a_repeated_message_is_let_through_once_per_interval_with_a_count() -> None:
    import logging

    now = [100.0]
    once = OncePer(10.0, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)

    passed = [once.filter(record("accept failed")) for _ in range(10_000)]
    assert passed.count(True) == 1
    assert once.filter(record("another message"))
    now[0] += 10
    later = record("accept failed")
    assert once.filter(later)
    assert later.suppressed == 9_999  # type: ignore[attr-defined]


BOUNDED_SERVER = """
import sys
from uvicorn import Server
from app.web.connections import ServerConfig

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})

Server(ServerConfig(app, host="127.0.0.1", port=int(sys.argv[1]), http=sys.argv[2],
                    header_timeout=1.0, limit_concurrency=8, log_config=None)).run()
"""


@pytest.mark.parametrize(
    "protocol",
    [
        "app.web.connections:BoundedH11Protocol",
        "app.web.connections_httptools:BoundedHttpToolsProtocol",
    ],
)
def test_the_head_deadline_holds_on_a_kept_alive_connection_too(protocol: str) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BOUNDED_SERVER, str(port), protocol])
    try:
        wait_until_listening(port, process)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while not answer.endswith(b"ok"):
                answer += client.recv(1024)
            assert answer.startswith(b"HTTP/1.1 200")
            client.sendall(b"GET / HTTP/1.1\r\nHost: ")  # the next head, never finished
            started = time.monotonic()
            assert client.recv(1024) == b""
            assert time.monotonic() - started < 15
    finally:
        process.terminate()
        process.wait(timeout=30)
