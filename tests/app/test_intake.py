"""Unauthenticated requests cost bounded memory and time: what is refused before its body is
read, the budget that every body in memory fits in (however many arrive at once), the deadline
on a body that trickles, and a signature check that is constant-time and needs no whole body.

The app is driven through raw ASGI with a counting `receive`, so the tests see exactly how much
of each body the app asked for."""

from __future__ import annotations

import asyncio
import hmac
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from app.store.db import make_engine
from app.web.app import create_app
from app.web.signature import SignatureCheck, sign, verify

MIB = 1024 * 1024
CHUNK = b"x" * (64 * 1024)
FORGED = "sha256=" + "0" * 64  # well formed, signed with nothing


class Sender:
    """A client's side of one request: `size` bytes in 64 KiB chunks; `stall_after` chunks, it
    stops sending (a slow-loris body) until `resume` is set."""

    def __init__(self, size: int, stall_after: int | None = None) -> None:
        self.size = size
        self.sent = 0
        self.stall_after = stall_after
        self.resume = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if self.sent >= self.size:
            return {"type": "http.disconnect"}
        await asyncio.sleep(0)  # a chunk at a time, as from the network: others run between
        if self.stall_after is not None and self.sent >= self.stall_after * len(CHUNK):
            await self.resume.wait()
        chunk = CHUNK[: self.size - self.sent]
        self.sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.sent < self.size}


async def post(app: Any, sender: Sender, signature: str | None, declare: bool = True) -> int:
    headers = [(b"x-github-event", b"push"), (b"x-github-delivery", b"d-1")]
    if declare:
        headers.append((b"content-length", str(sender.size).encode()))
    if signature is not None:
        headers.append((b"x-hub-signature-256", signature.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/webhooks/github", "raw_path": b"/webhooks/github",
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, sender.receive, send)
    return status[0]


def make_app(tmp_path: Path, **limits: Any) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    settings = Settings(database_url=url, github_webhook_secret="s3cret", **limits)
    return create_app(settings, make_engine(url))


async def test_a_missing_or_malformed_signature_is_401_before_a_byte_is_read(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    for signature in [None, "", "sha1=abc", "sha256=" + "0" * 63, "sha256=" + "G" * 64]:
        sender = Sender(24 * MIB)
        assert await post(app, sender, signature) == 401
        assert sender.sent == 0


async def test_a_declared_length_over_the_limit_is_413_before_a_byte_is_read(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, max_webhook_bytes=MIB, webhook_buffer_bytes=MIB)
    sender = Sender(MIB + 1)
    assert await post(app, sender, FORGED) == 413
    assert sender.sent == 0
    undeclared = Sender(4 * MIB)  # chunked: read only up to the limit
    assert await post(app, undeclared, FORGED, declare=False) == 413
    assert undeclared.sent <= MIB + len(CHUNK)


async def test_many_large_forged_bodies_at_once_stay_within_the_budget(tmp_path: Path) -> None:
    budget = 8 * MIB
    app = make_app(
        tmp_path, max_webhook_bytes=4 * MIB, webhook_buffer_bytes=budget, webhook_read_timeout=120
    )
    senders = [Sender(4 * MIB) for _ in range(40)]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        statuses = await asyncio.gather(*(post(app, s, FORGED) for s in senders))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert statuses == [401] * 40
    assert all(s.sent == 4 * MIB for s in senders)  # each was read (and hashed) whole
    assert app.state.body_budget.peak <= budget
    assert app.state.body_budget.in_use == 0
    # 40 x 4 MiB = 160 MiB if each were buffered at once; the budget plus overhead instead
    assert peak < budget + 4 * MIB, f"peak {peak / MIB:.1f} MiB"


async def test_a_body_that_trickles_past_the_deadline_is_cut_off_408(tmp_path: Path) -> None:
    app = make_app(tmp_path, webhook_read_timeout=0.3)
    sender = Sender(MIB, stall_after=2)
    assert await post(app, sender, FORGED) == 408
    assert sender.sent == 2 * len(CHUNK)
    assert app.state.body_budget.in_use == 0


async def test_a_request_that_cannot_reserve_its_size_in_time_is_503(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, max_webhook_bytes=MIB, webhook_buffer_bytes=MIB, webhook_read_timeout=0.3
    )
    budget = app.state.body_budget
    await budget.acquire(MIB)  # another request holds the whole budget
    waiting = Sender(MIB)
    assert await post(app, waiting, FORGED) == 503
    assert waiting.sent == 0
    budget.release(MIB)
    assert await post(app, waiting, FORGED) == 401  # read and checked once there is room
    assert waiting.sent == MIB and budget.in_use == 0


def test_the_signature_fed_in_chunks_is_the_signature_of_the_whole_body() -> None:
    body = bytes(range(256)) * 1000
    secrets = [b"old", b"new"]
    for size in (1, 7, 4096, len(body)):
        for secret in secrets:
            check = SignatureCheck(sign(body, secret), secrets)
            for start in range(0, len(body), size):
                check.update(body[start : start + size])
            assert check.matches()
    assert not verify(body, sign(body, b"other"), secrets)
    assert not verify(body[:-1], sign(body, b"old"), secrets)
    assert not verify(body, sign(body, b"old"), [])


def test_the_signature_check_does_the_same_comparisons_whatever_is_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Constant time: every secret is compared with `hmac.compare_digest` on operands of the same
    length, whether the signature matches the first secret, the last or none, and wherever it
    is wrong."""
    body, secrets = b'{"zen": "hi"}', [b"a", b"b", b"c"]
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    good = sign(body, b"a")
    headers = {
        "first secret": good,
        "last secret": sign(body, b"c"),
        "wrong first digit": good[:7] + ("0" if good[7] != "0" else "1") + good[8:],
        "wrong last digit": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "no secret": sign(body, b"z"),
    }
    seen = {}
    for name, header in headers.items():
        calls.clear()
        outcome = verify(body, header, secrets)
        seen[name] = list(calls)
        assert outcome is (name in {"first secret", "last secret"})
    assert all(c == [(71, 71)] * 3 for c in seen.values()), seen
