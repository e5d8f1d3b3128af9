"""The App under test, wired to a fake GitHub and a real database, for the end-to-end modules:
`async with running_app(database_url, fake) as http:` gives an httpx client on the real app;
`send` delivers a signed webhook and waits for its job, `accept` only for the 202."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.settings import Settings
from app.store.db import make_engine
from app.web.app import create_app
from app.web.signature import sign
from tests.app.fake_github import FakeGitHub

SECRET = b"push-secret"


@asynccontextmanager
async def running_app(
    database_url: str, fake: FakeGitHub, private_key: Any = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The App on `database_url` against `fake`, with a new App key unless `private_key` (a PEM
    or the SecretStr of another app's settings) is given."""
    if private_key is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    else:
        pem = getattr(private_key, "get_secret_value", lambda: private_key)()
    settings = Settings(
        database_url=database_url,
        github_app_id=4242,
        github_private_key=pem,
        github_webhook_secret=SECRET.decode(),
        github_api_url=fake.url,
    )
    engine = make_engine(database_url)
    app = create_app(settings, engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    await app.state.queue.drain()
    await engine.dispose()


async def accept(
    http: httpx.AsyncClient, event: str, payload: dict[str, Any], delivery: str
) -> None:
    """Deliver a signed webhook; return once it is accepted (its job runs on)."""
    body = json.dumps(payload).encode()
    response = await http.post(
        "/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 202


async def send(http: httpx.AsyncClient, event: str, payload: dict[str, Any], delivery: str) -> None:
    """Deliver a signed webhook and wait until its job (and any other queued) has run."""
    await accept(http, event, payload, delivery)
    await http.app.state.queue.drain()  # type: ignore[attr-defined]
