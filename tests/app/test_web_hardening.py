"""What every response of the webhook service carries: security headers, a request id that is
also bound to the log lines of that request, and a structured error without internals."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.logs import add_request_id
from app.settings import Settings
from app.store.db import make_engine
from app.web.app import create_app


@pytest.fixture
async def http(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    engine = make_engine(url)
    app = create_app(Settings(database_url=url, github_webhook_secret="s"), engine)

    async def boom() -> None:
        raise RuntimeError("password=hunter2 in an internal message")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await engine.dispose()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/healthz/live"), ("POST", "/webhooks/github")]
)
async def test_every_response_has_security_headers_and_a_request_id(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await http.request(method, path, content=b"{}")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["cache-control"] == "no-store"
    assert uuid.UUID(response.headers["x-request-id"]).version == 4


@pytest.mark.parametrize(
    "rid", [str(uuid.uuid4()), "req-42", "0af7651916cd43dd8448eb211c80319c", "a.b_c-D", "x" * 128]
)
async def test_a_sane_supplied_request_id_is_kept(http: httpx.AsyncClient, rid: str) -> None:
    response = await http.get("/healthz/live", headers={"X-Request-ID": rid})
    assert response.headers["x-request-id"] == rid


@pytest.mark.parametrize(
    "rid", ["", "x" * 129, "a b", 'id"}, {"admin": true', "../../etc", "a,b", "a;b", "a/b"]
)
async def test_any_other_request_id_is_replaced_by_a_new_uuid(
    http: httpx.AsyncClient, rid: str
) -> None:
    response = await http.get("/healthz/live", headers={"X-Request-ID": rid})
    assert response.headers["x-request-id"] != rid
    assert uuid.UUID(response.headers["x-request-id"]).version == 4


async def test_an_unexpected_error_is_a_json_500_without_internals(http: httpx.AsyncClient) -> None:
    response = await http.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body == {"error": "internal error", "request_id": response.headers["x-request-id"]}
    assert "hunter2" not in response.text


def test_log_lines_carry_the_request_id() -> None:
    from asgi_correlation_id import correlation_id

    token = correlation_id.set("0f1e2d3c-aaaa-4bbb-8ccc-123456789abc")
    try:
        event = add_request_id(None, "info", {"event": "x"})
    finally:
        correlation_id.reset(token)
    assert event["request_id"] == "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
    assert "request_id" not in add_request_id(None, "info", {"event": "y"})


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_no_schema_or_documentation_is_served(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 404
