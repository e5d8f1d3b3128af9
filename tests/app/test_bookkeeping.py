"""Installation bookkeeping keeps history: a repository removed from the App (or an uninstalled
App) keeps its analyses and waivers, and comes back as it was when it is added again."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from app.store.models import Analysis, Delivery, Installation, Repository
from tests.app.test_webhook import client, example, headers

__all__ = ["client"]


async def deliver(
    http: httpx.AsyncClient, event: str, payload: dict[str, Any], delivery: str
) -> str:
    body = json.dumps(payload).encode()
    response = await http.post(
        "/webhooks/github", content=body, headers=headers(body, event, delivery)
    )
    assert response.status_code == 202
    await http.app.state.queue.drain()  # type: ignore[attr-defined]
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Delivery, delivery)
        assert row is not None
        assert row.error is None, row.error
        return row.status


async def test_a_removed_repository_keeps_its_analyses_and_comes_back(
    client: httpx.AsyncClient,
) -> None:
    removed = example("installation_repositories", "removed")
    installation_id = removed["installation"]["id"]
    repo = removed["repositories_removed"][0]
    added = copy.deepcopy(example("installation_repositories", "added"))
    added["installation"]["id"] = installation_id
    added["repositories_added"] = [repo]
    assert await deliver(client, "installation_repositories", added, "add-1") == "done"
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        session.add(Analysis(repository_id=repo["id"], sha="a" * 40, ruleset_digest="d", score=90))
        await session.commit()

    assert await deliver(client, "installation_repositories", removed, "remove-1") == "done"
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Repository, repo["id"])
        analyses = await session.scalar(select(func.count()).select_from(Analysis))
    assert row is not None and row.removed_at is not None
    assert analyses == 1

    assert await deliver(client, "installation_repositories", added, "add-2") == "done"
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Repository, repo["id"])
    assert row is not None and row.removed_at is None


async def test_an_uninstalled_app_is_recorded_and_a_new_installation_clears_it(
    client: httpx.AsyncClient,
) -> None:
    created = example("installation", "created")
    deleted = copy.deepcopy(example("installation", "deleted"))
    deleted["installation"]["id"] = created["installation"]["id"]
    assert await deliver(client, "installation", created, "i-1") == "done"
    assert await deliver(client, "installation", deleted, "i-2") == "done"
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Installation, created["installation"]["id"])
        repos = list(await session.scalars(select(Repository)))
    assert row is not None and row.deleted_at is not None
    assert repos and all(r.removed_at is not None for r in repos)
    assert await deliver(client, "installation", created, "i-3") == "done"
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Installation, created["installation"]["id"])
    assert row is not None and row.deleted_at is None
