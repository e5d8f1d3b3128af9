"""`/metrics` of the webhook service: process metrics, the build version, and every request timed
by route template and status (a client-chosen path never becomes a label)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import __version__
from app.settings import Settings
from app.store.db import make_engine
from app.web.app import create_app


@pytest.fixture
async def http(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path}/stopship.db"
    engine = make_engine(url)
    app = create_app(Settings(database_url=url, github_webhook_secret="s"), engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await engine.dispose()


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await http.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_process_metrics_and_the_build_version_are_exported(http: httpx.AsyncClient) -> None:
    seen = await scrape(http)
    assert seen[("stopship_build_info", (("version", __version__),))] == 1
    assert seen[("process_resident_memory_bytes", ())] > 0
    assert seen[("process_start_time_seconds", ())] > 0
    assert any(name == "python_info" for name, _ in seen)


async def test_requests_are_timed_by_route_template_and_status(http: httpx.AsyncClient) -> None:
    await http.get("/healthz/live")
    await http.get("/healthz/live")
    await http.post("/webhooks/github", content=b"{}")  # unsigned: refused
    await http.get("/badge/octo/one.svg")
    await http.get("/badge/octo/two.svg")
    await http.get("/wp-admin/setup.php")
    await http.get("/.env")

    seen = await scrape(http)
    count = "stopship_http_request_duration_seconds_count"
    assert seen[(count, (("route", "/healthz/live"), ("status", "200")))] == 2
    webhook = [k for k in seen if k[0] == count and ("route", "/webhooks/github") in k[1]]
    assert len(webhook) == 1 and seen[webhook[0]] == 1
    assert dict(webhook[0][1])["status"].startswith("4")
    badges = [k for k in seen if k[0] == count and dict(k[1])["route"].startswith("/badge/")]
    assert [dict(k[1])["route"] for k in badges] == ["/badge/{owner}/{repo}.svg"]
    assert seen[badges[0]] == 2
    assert seen[(count, (("route", "unmatched"), ("status", "404")))] == 2
    routes = {dict(k[1])["route"] for k in seen if k[0] == count}
    assert not routes & {"/wp-admin/setup.php", "/.env", "/badge/octo/one.svg"}
