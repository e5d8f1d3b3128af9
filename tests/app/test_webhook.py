"""`POST /webhooks/github` with GitHub's real example payloads (@octokit/webhooks-examples),
re-signed: signature, size and format checks, redelivery, storage, the inline queue, health and
metrics; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.settings import Settings
from app.store.db import make_engine
from app.store.models import Delivery, Installation, Repository
from app.web.app import create_app
from app.web.signature import sign

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / ".cache" / "github" / "webhooks-examples" / "api.github.com" / "index.json"
SECRET, OLD_SECRET = b"s3cret-current", b"s3cret-previous"


def example(event: str, action: str | None = None) -> dict[str, Any]:
    """GitHub's example of `event` (and `action`), as an App receives it: a repository webhook's
    examples name no installation, an App's deliveries always do."""
    assert EXAMPLES.is_file(), "run scripts/setup_test_assets.sh (.ci/run does) first"
    entry = next(e for e in json.loads(EXAMPLES.read_text()) if e["name"] == event)
    found = next(x for x in entry["examples"] if action is None or x.get("action") == action)
    return {"installation": {"id": 77}, **found}


@pytest.fixture
async def client(database_url: str):  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=database_url,
        github_webhook_secret=f"{SECRET.decode()}, {OLD_SECRET.decode()}",
        max_webhook_bytes=25 * 1024 * 1024,
    )
    engine = make_engine(database_url)
    app = create_app(settings, engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    await app.state.queue.drain()
    await engine.dispose()


def headers(body: bytes, event: str, delivery: str, secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
    }


async def deliveries(http: httpx.AsyncClient) -> list[Delivery]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return list(await session.scalars(select(Delivery)))


async def test_a_delivery_that_is_not_shaped_like_its_event_is_refused(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        ({**example("push"), "repository": "octo/shop"}, "repository"),
        ({**example("push"), "installation": {"id": 2**64}}, "installation.id"),
        ({k: v for k, v in example("push").items() if k != "installation"}, "no installation"),
        ({**example("pull_request", "opened"), "pull_request": 7}, "pull_request"),
    ]
    for n, (payload, where) in enumerate(cases):
        event = "pull_request" if "pull_request" in payload else "push"
        body = json.dumps(payload).encode()
        response = await client.post(
            "/webhooks/github", content=body, headers=headers(body, event, f"m-{n}")
        )
        assert response.status_code == 400, where
        assert where in response.json()["error"]
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = await client.post(
        "/webhooks/github", content=deep, headers=headers(deep, "push", "m-deep")
    )
    assert response.status_code == 400
    assert await deliveries(client) == []


async def test_a_signed_push_is_stored_and_accepted(client: httpx.AsyncClient) -> None:
    body = json.dumps(example("push")).encode()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "push", "d-1")
    )
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "delivery": "d-1"}
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    [row] = await deliveries(client)
    assert (row.id, row.event, row.repository) == (
        "d-1",
        "push",
        example("push")["repository"]["full_name"],
    )
    assert row.status == "deferred"  # analysis through the GitHub API is not built yet
    assert row.payload == body.decode()


async def test_a_redelivery_is_answered_200_without_a_second_job(client: httpx.AsyncClient) -> None:
    body = json.dumps(example("pull_request", "opened")).encode()
    first = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "pull_request", "d-2")
    )
    again = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "pull_request", "d-2")
    )
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert len(await deliveries(client)) == 1


async def test_the_previous_secret_still_works_during_rotation(client: httpx.AsyncClient) -> None:
    body = json.dumps(example("push")).encode()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "push", "d-3", OLD_SECRET)
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "tamper",
    ["missing", "wrong-prefix", "wrong-secret", "truncated-body", "empty"],
)
async def test_bad_signatures_are_rejected_401(client: httpx.AsyncClient, tamper: str) -> None:
    body = json.dumps(example("push")).encode()
    sent, head = body, headers(body, "push", "d-4")
    if tamper == "missing":
        del head["X-Hub-Signature-256"]
    elif tamper == "wrong-prefix":
        head["X-Hub-Signature-256"] = head["X-Hub-Signature-256"].replace("sha256=", "sha1=")
    elif tamper == "wrong-secret":
        head["X-Hub-Signature-256"] = sign(body, b"not-the-secret")
    elif tamper == "truncated-body":
        sent = body[: len(body) // 2]
    else:
        head["X-Hub-Signature-256"] = ""
    response = await client.post("/webhooks/github", content=sent, headers=head)
    assert response.status_code == 401
    assert await deliveries(client) == []


async def test_a_body_over_25_mib_is_refused_413(client: httpx.AsyncClient) -> None:
    body = b'{"pad": "' + b"x" * (26 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "push", "d-5")
    )
    assert response.status_code == 413

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(27):
            yield b"x" * (1024 * 1024)

    streamed = await client.post(  # no length declared: cut off at the limit
        "/webhooks/github",
        content=chunks(),
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "d-6",
            "X-Hub-Signature-256": sign(b"", SECRET),
        },
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("body", "event", "delivery"),
    [
        (b"\xff\xfe not utf-8", "push", "d-7"),
        (b"[1, 2, 3]", "push", "d-8"),
        (b"{not json", "push", "d-9"),
        (b"{}", "", "d-10"),
        (b"{}", "push", ""),
        (b"{}", "push", "../../etc/passwd"),
    ],
)
async def test_malformed_deliveries_are_400(
    client: httpx.AsyncClient, body: bytes, event: str, delivery: str
) -> None:
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, event, delivery)
    )
    assert response.status_code == 400
    assert await deliveries(client) == []


async def test_unsupported_events_are_ignored_204(client: httpx.AsyncClient) -> None:
    body = json.dumps(example("star")).encode()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "star", "d-11")
    )
    assert response.status_code == 204
    assert await deliveries(client) == []


async def test_installation_events_are_recorded(client: httpx.AsyncClient) -> None:
    payload = example("installation", "created")
    body = json.dumps(payload).encode()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers(body, "installation", "d-12")
    )
    assert response.status_code == 202
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        installation = await session.get(Installation, payload["installation"]["id"])
        repos = await session.scalar(select(func.count()).select_from(Repository))
    assert installation is not None
    assert installation.account == payload["installation"]["account"]["login"]
    assert repos == len(payload.get("repositories") or [])
    [row] = await deliveries(client)
    assert row.status == "done"


async def test_unfinished_deliveries_are_picked_up_again(client: httpx.AsyncClient) -> None:
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        session.add(Delivery(id="left-over", event="ping", payload="{}", status="accepted"))
        await session.commit()
    resumed = await client.app.state.queue.resume()  # type: ignore[attr-defined]
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    assert resumed == 1
    [row] = await deliveries(client)
    assert (row.status, row.attempts) == ("done", 1)


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz/live")).json() == {"status": "ok"}
    ready = await client.get("/healthz/ready")
    assert ready.status_code == 200
    body = json.dumps(example("push")).encode()
    await client.post("/webhooks/github", content=body, headers=headers(body, "push", "d-13"))
    await client.post("/webhooks/github", content=body, headers=headers(body, "push", "d-14", b"x"))
    text = (await client.get("/metrics")).text
    assert 'stopship_webhook_deliveries_total{event="push",outcome="accepted"} 1.0' in text
    assert 'stopship_webhook_deliveries_total{event="push",outcome="bad_signature"} 1.0' in text
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    assert "stopship_queue_depth 0.0" in (await client.get("/metrics")).text


async def test_unsigned_event_names_never_become_metric_labels(client: httpx.AsyncClient) -> None:
    """The X-GitHub-Event header of an unsigned request is the sender's choice: 1,000 unique
    names must not grow /metrics (each would be a permanent Prometheus series)."""
    # the series a refused delivery and a scrape make in any case (the request histogram's)
    await client.post("/webhooks/github", content=b"{}", headers={"X-GitHub-Event": "push"})
    await client.get("/metrics")
    before = len((await client.get("/metrics")).text)
    for n in range(1000):
        response = await client.post(
            "/webhooks/github",
            content=b"{}",
            headers={"X-GitHub-Event": f"evil-{n}", "X-GitHub-Delivery": f"u-{n}"},
        )
        assert response.status_code == 401
    body = (await client.get("/metrics")).text
    assert "evil-" not in body
    assert len(body) - before < 400  # one "other" series, not a thousand


async def test_a_database_outage_is_503_with_retry_after_and_logged_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Deliveries that cannot be stored are not accepted: 503 with Retry-After (GitHub's
    redelivery, or the sender, comes back), never a 500 with a traceback, never a 202 for a
    delivery that is not stored; the outage is one log line, not one per request."""
    settings = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",  # nothing listens
        github_webhook_secret=SECRET.decode(),
    )
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        body = json.dumps(example("push")).encode()
        for n in range(3):
            response = await http.post(
                "/webhooks/github", content=body, headers=headers(body, "push", f"down-{n}")
            )
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "30"
    await engine.dispose()
    logged = capsys.readouterr().out
    assert logged.count("database unavailable") == 1
    assert "Traceback" not in logged
