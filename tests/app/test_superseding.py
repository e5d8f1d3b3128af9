"""Superseding and de-duplication through the database: a newer push to the same branch ends the
older job's work (its check run `neutral`, "superseded by <sha>") instead of both finishing; a
title edit supersedes nothing; a push and a check_suite for the same commit make one analysis,
and a re-run the user asks for makes another. The race is made deterministic by the fake GitHub
holding blob responses until the newer push has been accepted."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.store.models import Analysis, Delivery
from tests.app.app_harness import accept
from tests.app.fake_github import FakeGitHub
from tests.app.test_incremental import commit, head, pushed, repo  # noqa: F401 - fixture
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    GOOD,
    INJECTION,
    SECRET,
    client,
    fake,
    pull_request_payload,
    push,
    push_payload,
    send,
)
from tests.app.test_webhook import example
from tests.gitrepo import git


async def until(condition: Callable[[], bool], deadline: float = 20.0) -> None:
    """Wait for `condition` (checked as the event loop turns), failing after `deadline` s."""
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.01)


async def statuses(http: httpx.AsyncClient) -> dict[str, str]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return {d.id: d.status for d in await session.scalars(select(Delivery))}


async def analysed_shas(http: httpx.AsyncClient) -> list[str]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return [a.sha for a in await session.scalars(select(Analysis).order_by(Analysis.id))]


def final_update(github: FakeGitHub, run_id: int) -> dict[str, Any]:
    [update] = [
        r.body
        for r in github.calls("PATCH", f"/check-runs/{run_id}")
        if r.body.get("status") == "completed"
    ]
    return update


async def test_a_newer_push_supersedes_the_older_job(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    gate = threading.Event()
    fake.holds["GET /git/blobs/"] = gate
    first = head(repo)
    await accept(client, "push", push_payload(first), "p-1")
    await until(lambda: fake.count("GET", "/git/blobs/") >= 1)  # the first job is fetching

    second = commit(repo, "fix", {"app/users.py": GOOD})
    await accept(client, "push", pushed(repo, first, second), "p-2")
    gate.set()
    await client.app.state.queue.drain()  # type: ignore[attr-defined]

    [older_run], [newer_run] = fake.check_runs[first], fake.check_runs[second]
    older = final_update(fake, older_run)
    assert older["conclusion"] == "neutral"
    assert older["output"]["title"] == f"Superseded by {second[:7]}"
    assert f"superseded by {second}" in older["output"]["summary"]
    newer = final_update(fake, newer_run)
    assert newer["conclusion"] == "success"
    assert await statuses(client) == {"p-1": "superseded", "p-2": "done"}
    assert await analysed_shas(client) == [second]


async def test_a_title_edit_supersedes_nothing(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    base = head(repo)
    git(repo, "checkout", "-qb", "topic")
    pr_head = commit(repo, "admin", {"app/admin.py": INJECTION})
    gate = threading.Event()
    fake.holds["GET /git/blobs/"] = gate
    opened = pull_request_payload(repo, base, pr_head)
    await accept(client, "pull_request", opened, "pr-1")
    await until(lambda: fake.count("GET", "/git/blobs/") >= 1)
    edited = copy.deepcopy(opened)
    edited.update(action="edited", changes={"title": {"from": "old"}})
    await accept(client, "pull_request", edited, "pr-2")
    gate.set()
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    assert await statuses(client) == {"pr-1": "done", "pr-2": "ignored"}
    [run] = fake.calls("POST", "/check-runs")
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    assert run.body["head_sha"] == pr_head


def check_suite(sha: str, action: str) -> dict[str, Any]:
    payload = copy.deepcopy(example("check_suite", "rerequested"))
    payload["action"] = action
    payload["check_suite"].update(head_sha=sha, head_branch="main")
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    return payload


async def test_a_push_and_its_check_suite_make_one_analysis_and_a_rerun_another(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    await push(client, push_payload(sha), "p-1")
    await send(client, "check_suite", check_suite(sha, "requested"), "cs-1")
    assert len(fake.calls("POST", "/check-runs")) == 1
    assert await statuses(client) == {"p-1": "done", "cs-1": "duplicate"}
    assert await analysed_shas(client) == [sha]

    await send(client, "check_suite", check_suite(sha, "rerequested"), "cs-2")
    assert len(fake.calls("POST", "/check-runs")) == 2
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    assert await analysed_shas(client) == [sha, sha]
