"""The App under test, wired to a fake GitHub and a real database, for the end-to-end modules:
`async with running_app(database_url, fake) as http:` gives an httpx client on the real app
(webhooks are sent with tests.app.test_push_analysis.send)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.settings import Settings
from app.store.db import make_engine
from app.web.app import create_app
from tests.app.fake_github import FakeGitHub
from tests.app.test_push_analysis import SECRET


@asynccontextmanager
async def running_app(database_url: str, fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
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
