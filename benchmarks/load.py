"""Webhook intake under load: signed deliveries at rising rates against `stopship serve`.

    python benchmarks/load.py [--database postgresql sqlite] [--rates 100 250 500 750 1000]
        [--seconds 5] [--workers 2] [--postgres-url postgresql+asyncpg://postgres@127.0.0.1/test]
    python benchmarks/load.py --profile 2000 [--database sqlite] [--loop asyncio]
        # where one delivery's CPU goes, in process

For each database it starts `serve` on 127.0.0.1 (PostgreSQL: a fresh database, the
procrastinate queue, --workers processes, the jobs deferred and not run, as on a web replica;
SQLite: one process and the inline queue, whose jobs run in the same process, so its deliveries
are `ping`s, whose job is bookkeeping only; PostgreSQL's are `push`es, GitHub's real examples of
7 KB). An open-loop client (one process, keep-alive connections, raw HTTP/1.1) sends each delivery
at its scheduled time; latency runs from that time to the answer, so a server that falls behind
is charged for the queue it builds. Each rate runs --seconds, then waits at most 10 s for the
answers. Per rate: the achieved rate (202s per second), p50 and p99, the answers by status, and
202s against the rows the database gained. Rates stop rising once the server falls behind (p99
over 1 s or under 80% of the target achieved).

Target: 500 deliveries/s with p99 under 100 ms on 2 cores (PostgreSQL + procrastinate). The
client shares the machine with the server, so figures are for the pair. Prints a table and one
JSON line; exits 1 when a 202 has no stored row or an answer is a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from app.web.signature import sign  # noqa: E402 - the path above makes the app importable

EXAMPLES = ROOT / ".cache" / "github" / "webhooks-examples" / "api.github.com" / "index.json"
SECRET = b"load-secret"
TARGET_RATE, TARGET_P99_MS = 500, 100.0
DRAIN_SECONDS = 10.0
MAX_CONNECTIONS = 256


def example_body(event: str) -> bytes:
    entry = next(e for e in json.loads(EXAMPLES.read_text()) if e["name"] == event)
    return json.dumps({"installation": {"id": 77}, **entry["examples"][0]}).encode()


def request_bytes(event: str, body: bytes, delivery: str) -> bytes:
    head = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-GitHub-Event: {event}\r\n"
        f"X-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {sign(body, SECRET)}\r\n\r\n"
    )
    return head.encode() + body


# --- the client --------------------------------------------------------------------------------


@dataclass
class Step:
    rate: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        status_line = await self.reader.readline()
        length, keep = 0, True
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and b"close" in value.lower():
                keep = False
        await self.reader.readexactly(length)
        if not keep:
            raise ConnectionResetError("closed by the server")
        return int(status_line.split()[1])


async def run_step(port: int, event: str, body: bytes, step: Step) -> None:
    """Send `step.rate` deliveries a second for `step.seconds`, each at its scheduled time."""
    loop = asyncio.get_running_loop()
    idle: list[Connection] = []
    opened = 0
    slots = asyncio.Semaphore(MAX_CONNECTIONS)
    pending: set[asyncio.Task[None]] = set()
    total = int(step.rate * step.seconds)
    requests = [request_bytes(event, body, str(uuid.uuid4())) for _ in range(total)]

    async def deliver(request: bytes, scheduled: float) -> None:
        nonlocal opened
        async with slots:
            connection = idle.pop() if idle else None
            try:
                if connection is None:
                    opened += 1
                    connection = Connection(*await asyncio.open_connection("127.0.0.1", port))
                status = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                step.count("error")
                if connection is not None:
                    connection.writer.close()
                return
            step.latencies.append(loop.time() - scheduled)
            step.count(str(status))
            idle.append(connection)

    started = loop.time()
    for i, request in enumerate(requests):
        scheduled = started + i / step.rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(deliver(request, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        _done, late = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
        for task in late:
            task.cancel()
            step.count("unanswered")
    step.elapsed = loop.time() - started
    for connection in idle:
        connection.writer.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the server --------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes (Linux /proc), those gone counted as 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (serve's worker processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def database_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving `url`'s database (none for SQLite)."""
    if not url.startswith("postgresql"):
        return []
    import asyncpg

    name = url.rsplit("/", 1)[1]
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def pids() -> list[int]:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            return [int(r["pid"]) for r in rows]
        finally:
            await connection.close()

    return asyncio.run(pids())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import asyncpg

    name = f"stopship_load_{uuid.uuid4().hex[:10]}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def stored_rows(url: str) -> int:
    from sqlalchemy import func, select

    from app.store.db import make_engine
    from app.store.models import Delivery

    async def count() -> int:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(select(func.count(Delivery.id)))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


@contextlib.contextmanager
def serving(url: str, queue: str, workers: int, scratch: Path) -> Iterator[tuple[int, int]]:
    from app.store.migrate import upgrade

    upgrade(url)
    key = scratch / "app.pem"
    key.write_text(private_key_pem())
    port = free_port()
    env = {
        **os.environ,
        "STOPSHIP_DATABASE_URL": url,
        "STOPSHIP_QUEUE": queue,
        "STOPSHIP_GITHUB_APP_ID": "4242",
        "STOPSHIP_GITHUB_PRIVATE_KEY_FILE": str(key),
        "STOPSHIP_GITHUB_WEBHOOK_SECRET": SECRET.decode(),
        "STOPSHIP_GITHUB_API_URL": "http://127.0.0.1:9",  # never reached: no job calls out
        "STOPSHIP_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    log = open(scratch / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited: {(scratch / 'serve.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("serve did not listen within 60 s") from None
                time.sleep(0.1)
        # each worker process answers once before the clock starts
        for _ in range(4 * workers):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET /healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while s.recv(65536):
                    pass
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def measure(
    database: str, url: str, args: argparse.Namespace, scratch: Path
) -> list[dict[str, Any]]:
    postgresql = database == "postgresql"
    queue, workers, event = ("procrastinate", args.workers, "push") if postgresql else (
        "inline", 1, "ping"
    )
    body = example_body(event)
    rows: list[dict[str, Any]] = []
    with serving(url, queue, workers, scratch) as (port, pid):
        for rate in args.rates:
            before = stored_rows(url)
            serve, backends = process_tree(pid), database_backends(url)
            serve_before, db_before = cpu_seconds(serve), cpu_seconds(backends)
            client_before = time.process_time()
            step = Step(rate, args.seconds)
            asyncio.run(run_step(port, event, body, step))
            client_cpu = time.process_time() - client_before
            serve_cpu = cpu_seconds(serve) - serve_before
            # backends that a pool opened during the step started from 0
            known = set(backends)
            db_cpu = cpu_seconds(backends) - db_before
            db_cpu += cpu_seconds([p for p in database_backends(url) if p not in known])
            stored = stored_rows(url) - before
            accepted = step.statuses.get("202", 0)
            row = {
                "database": database, "queue": queue, "workers": workers, "event": event,
                "rate": rate, "achieved": round(accepted / step.elapsed, 1),
                "p50_ms": round(percentile(step.latencies, 0.50) * 1000, 1),
                "p99_ms": round(percentile(step.latencies, 0.99) * 1000, 1),
                "statuses": step.statuses, "accepted": accepted, "stored": stored,
                "serve_cpu_ms": round(serve_cpu / max(accepted, 1) * 1000, 2),
                "db_cpu_ms": round(db_cpu / max(accepted, 1) * 1000, 2),
                "client_cpu_ms": round(client_cpu / max(accepted, 1) * 1000, 2),
            }  # fmt: skip
            rows.append(row)
            print(
                f"{database:10} {queue:13} {workers:>2} {rate:>6} {row['achieved']:>9} "
                f"{row['p50_ms']:>8} {row['p99_ms']:>8} {accepted:>7} {stored:>7} "
                f"{row['serve_cpu_ms']:>7} {row['db_cpu_ms']:>7} {row['client_cpu_ms']:>7}  "
                f"{json.dumps(step.statuses)}",
                flush=True,
            )
            if row["p99_ms"] > 1000 or accepted < 0.8 * rate * args.seconds:
                break  # fallen behind: a higher rate says nothing more
    return rows


# --- the profile -------------------------------------------------------------------------------


def profile(deliveries: int, url: str, queue: str, loop_name: str) -> None:
    """Where one delivery's CPU goes: `deliveries` signed pushes through the app in process
    (raw ASGI calls, one at a time; with the inline queue its submit does nothing, so no job
    runs), timed, then again under cProfile."""
    import structlog

    from app.logs import configure_logging
    from app.settings import Settings
    from app.store.db import make_engine
    from app.store.migrate import upgrade
    from app.web.app import create_app

    configure_logging("json", "info")  # as served: a JSON line per delivery, to nowhere here
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")))  # noqa: SIM115
    upgrade(url)
    engine = make_engine(url)
    app = create_app(
        Settings(database_url=url, queue=queue, github_webhook_secret=SECRET.decode()), engine
    )

    async def nothing(delivery_id: str, lock: str) -> None:
        return None

    if queue == "inline":
        app.state.queue.submit = nothing
    body = example_body("push")
    ids = itertools.count()

    async def post(delivery: str) -> int:
        sent = False
        status: list[int] = []
        headers = [
            (b"content-length", str(len(body)).encode()), (b"x-github-event", b"push"),
            (b"x-github-delivery", delivery.encode()),
            (b"x-hub-signature-256", sign(body, SECRET).encode()),
        ]  # fmt: skip

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/webhooks/github", "raw_path": b"/webhooks/github",
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        }  # fmt: skip
        await app(scope, receive, send)
        return status[0]

    async def run(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            status = await post(f"p-{next(ids)}")
            assert status == 202, status
        return time.process_time() - started

    profiler = cProfile.Profile()
    parts: dict[str, float] = {}

    def cpu_ms(started: float, n: int) -> float:
        return (time.process_time() - started) / n * 1000

    async def breakdown(n: int) -> None:
        """The parts of a delivery, each alone: what is left of the whole is the storing."""
        from sqlalchemy.ext.asyncio import create_async_engine

        from app.github.events import parse_stored
        from app.jobs.queue import job_lock

        text = body.decode()
        started = time.process_time()
        for _ in range(n):
            sign(body, SECRET)
        parts["signature (HMAC-SHA256)"] = cpu_ms(started, n)
        started = time.process_time()
        for _ in range(n):
            parsed = parse_stored("push", text)
        parts["typed event (pydantic)"] = cpu_ms(started, n)
        healthz = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/healthz/live", "raw_path": b"/healthz/live",
            "query_string": b"", "root_path": "", "headers": [],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def drop(message: dict[str, Any]) -> None:
            return None

        started = time.process_time()
        for _ in range(n):
            await app(healthz, receive, drop)
        parts["framework and middleware (a GET)"] = cpu_ms(started, n)
        if queue != "inline":
            started = time.process_time()
            for i in range(n):
                await app.state.queue.submit(f"b-{i}", job_lock(f"b-{i}", parsed))
            parts["queue.submit (procrastinate defer)"] = cpu_ms(started, n)
        plain_engine = create_async_engine(url)
        for name, pool in (("with pre-ping", engine), ("without", plain_engine)):
            started = time.process_time()
            for _ in range(n):
                async with pool.connect():
                    pass
            parts[f"pool checkout {name}"] = cpu_ms(started, n)
        await plain_engine.dispose()

    async def measure() -> tuple[float, float]:
        await app.state.queue.open()
        try:
            await run(50)  # warm
            plain = await run(deliveries)
            await breakdown(deliveries)
            profiler.enable()
            profiled = await run(deliveries)
            profiler.disable()
            return plain, profiled
        finally:
            await app.state.queue.close()
            await engine.dispose()

    if loop_name == "uvloop":
        import uvloop

        plain, profiled = uvloop.run(measure())
    else:
        plain, profiled = asyncio.run(measure())
    print(f"{deliveries} deliveries on {loop_name}: {plain / deliveries * 1000:.2f} ms CPU each")
    for name, ms in parts.items():
        print(f"  {name:40} {ms:6.3f} ms")
    print(f"under cProfile: {profiled / deliveries * 1000:.2f} ms each; by own time:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(45)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", nargs="+", choices=["postgresql", "sqlite"],
                        default=["postgresql", "sqlite"])  # fmt: skip
    parser.add_argument("--rates", nargs="+", type=int, default=[100, 250, 500, 750, 1000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STOPSHIP_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--profile", type=int, metavar="N", help="profile N deliveries in process")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="the event loop of --profile (serve picks uvloop)")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stopship-load-") as tmp:
        scratch = Path(tmp)
        if args.profile:
            if args.database[0] == "postgresql":
                with postgres_database(args.postgres_url) as url:
                    profile(args.profile, url, "procrastinate", args.loop)
            else:
                sqlite = f"sqlite+aiosqlite:///{scratch}/profile.db"
                profile(args.profile, sqlite, "inline", args.loop)
            return 0
        print(f"{'database':10} {'queue':13} {'w':>2} {'rate/s':>6} {'achieved':>9} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'202s':>7} {'stored':>7} {'serve':>7} "
              f"{'db':>7} {'client':>7}  statuses   (cpu: ms per 202)")  # fmt: skip
        rows: list[dict[str, Any]] = []
        for database in args.database:
            if database == "postgresql":
                with postgres_database(args.postgres_url) as url:
                    rows += measure(database, url, args, scratch)
            else:
                rows += measure(database, f"sqlite+aiosqlite:///{scratch}/load.db", args, scratch)
    lost = [r for r in rows if r["accepted"] != r["stored"]]
    errors = [r for r in rows if any(s.startswith("5") for s in r["statuses"])]
    met = [
        r for r in rows
        if r["database"] == "postgresql" and r["rate"] >= TARGET_RATE
        and r["achieved"] >= 0.95 * TARGET_RATE and r["p99_ms"] < TARGET_P99_MS
    ]  # fmt: skip
    print(json.dumps({"steps": rows, "target_met": bool(met), "lost": len(lost),
                      "server_errors": len(errors), "cpus": os.cpu_count()}))  # fmt: skip
    return 1 if lost or errors else 0


if __name__ == "__main__":
    sys.exit(main())
