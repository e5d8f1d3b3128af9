"""Run as a program by test_tracing.py (tracing is process-wide: its own process keeps the
instrumentation out of the other tests): one signed push through the app with the inline queue,
on SQLite, against the fake GitHub, its spans kept in memory and written as JSON lines to the
file named by the first argument."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from app.settings import Settings
from app.store.migrate import upgrade
from app.web.app import create_app
from app.web.signature import sign
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_worker_command import BAD, push_payload
from tests.gitrepo import git

SECRET = "probe-secret"


async def main(root: Path) -> list[dict[str, object]]:
    exporter = InMemorySpanExporter()
    assert tracing.start_tracing(None, exporter)
    (root / "shop" / "app").mkdir(parents=True)
    (root / "shop" / "app" / "users.py").write_text(BAD)
    git(root / "shop", "init", "-q", "-b", "main")
    git(root / "shop", "add", ".")
    git(root / "shop", "commit", "-qm", "first")
    fake = FakeGitHub(repo_dir=root / "shop")
    server = start(fake)
    url = f"sqlite+aiosqlite:///{root}/stopship.db"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = Settings(
        database_url=url,
        github_app_id=4242,
        github_private_key=pem,
        github_webhook_secret=SECRET,
        github_api_url=fake.url,
    )
    app = create_app(settings)
    body = json.dumps(push_payload(git(root / "shop", "rev-parse", "HEAD"))).encode()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
            ) as http,
        ):
            await http.get("/healthz/live")
            response = await http.post(
                "/webhooks/github",
                content=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": "trace-1",
                    "X-Hub-Signature-256": sign(body, SECRET.encode()),
                },
            )
            assert response.status_code == 202, response.text
            deadline = time.monotonic() + 60
            while not any("conclusion" in c.body for c in fake.calls("PATCH", "/check-runs/")):
                assert time.monotonic() < deadline, "the push was not judged"
                await asyncio.sleep(0.05)
    finally:
        server.shutdown()
    return [
        {
            "name": span.name,
            "kind": span.kind.name,
            "trace": format(span.context.trace_id, "x") if span.context else "",
            "span": format(span.context.span_id, "x") if span.context else "",
            "parent": format(span.parent.span_id, "x") if span.parent else None,
            "attributes": {k: str(v) for k, v in (span.attributes or {}).items()},
        }
        for span in exporter.get_finished_spans()
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        upgrade(f"sqlite+aiosqlite:///{directory}/stopship.db")
        spans = asyncio.run(main(Path(directory)))
    Path(sys.argv[1]).write_text("".join(json.dumps(span) + "\n" for span in spans))
