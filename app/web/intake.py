"""Reading a webhook body that is not yet trusted, with bounded memory and time.

Nothing is read from a request whose signature header is missing or malformed (401) or whose
declared length is over the limit (413). Otherwise the body is streamed into the HMAC of every
secret as it arrives, into a buffer reserved beforehand from the process's `BodyBudget`: however
many requests arrive at once, the bodies held in memory never add up to more than the budget
(a request that cannot reserve its size waits, then is answered 503). Reserving and reading share
one deadline: a body that trickles slower is cut off with 408.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import ClientDisconnect, Request

from app.web.signature import SignatureCheck, well_formed

RETRY_AFTER_SECONDS = 30


class Refused(Exception):
    """A request answered without reading (all of) its body: the status, the message and the
    outcome counted in `stopship_webhook_deliveries_total`."""

    def __init__(self, status: int, message: str, outcome: str, retry_after: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.outcome = outcome
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry_after else None


@dataclass
class BodyBudget:
    """Bytes of webhook bodies this process holds at once. A request reserves its declared
    length (or the size limit when it declares none) before it reads a byte, and gives it back
    when it is answered."""

    limit: int
    in_use: int = 0
    peak: int = 0  # the most ever reserved at once (what the tests and the benchmark read)
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)

    async def acquire(self, size: int) -> None:
        while self.in_use + size > self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)
        self.in_use += size
        self.peak = max(self.peak, self.in_use)

    def release(self, size: int) -> None:
        self.in_use -= size
        for waiter in self._waiters:  # each rechecks whether its size fits now
            if not waiter.done():
                waiter.set_result(None)


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int
    read_timeout: float  # seconds for reserving and reading, together


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def _read(request: Request, size: int, check: SignatureCheck) -> bytearray:
    declared = _declared_length(request)
    body = bytearray(size) if declared is not None else bytearray()
    view = memoryview(body) if declared is not None else None
    received = 0
    async for chunk in request.stream():
        if received + len(chunk) > size:
            raise Refused(413, "payload too large", "too_large")
        check.update(chunk)
        if view is not None:
            view[received : received + len(chunk)] = chunk
        else:
            body += chunk
        received += len(chunk)
    if view is not None:
        view.release()
        del body[received:]
    return body


@asynccontextmanager
async def signed_body(
    request: Request, secrets: list[bytes], limits: IntakeLimits, budget: BodyBudget
) -> AsyncIterator[bytearray]:
    """The body of `request`, whole and signed with one of `secrets`, held within `budget`
    until the block ends; `Refused` otherwise."""
    declared = _declared_length(request)
    if declared is not None and declared > limits.max_bytes:
        raise Refused(413, "payload too large", "too_large")
    header = request.headers.get("x-hub-signature-256")
    if not secrets or not well_formed(header):
        raise Refused(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
    size = declared if declared is not None else limits.max_bytes
    deadline = asyncio.get_running_loop().time() + limits.read_timeout
    try:
        async with asyncio.timeout_at(deadline):
            await budget.acquire(size)
    except TimeoutError:
        busy = "too many deliveries at once; deliver again later"
        raise Refused(503, busy, "busy", retry_after=True) from None
    try:
        check = SignatureCheck(header, secrets)
        try:
            async with asyncio.timeout_at(deadline):
                body = await _read(request, size, check)
        except TimeoutError:
            raise Refused(408, "body not received in time", "timeout") from None
        except ClientDisconnect:
            raise Refused(400, "client disconnected", "disconnected") from None
        if not check.matches():
            raise Refused(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
        yield body
    finally:
        budget.release(size)
