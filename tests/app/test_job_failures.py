"""Jobs that cannot finish: a primary rate limit is waited for when it resets soon and ends the
job cleanly when it does not (the check run completed with the reset time, the delivery kept as
`rate_limited` with `retry_at`, the commit judged again on a re-run); a response that spends the
quota stops the rest of the job's requests; an error that is no outage closes the check run and
leaves the commit to be judged by the next delivery (outages: tests/app/test_outages.py)."""

from __future__ import annotations

import asyncio
import copy
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.github.events import Place, parse_event
from app.jobs.analyse import Target, judge
from app.store.models import Delivery
from tests.app.fake_github import FakeGitHub, rate_limited, spent_quota
from tests.app.test_incremental import FILES, head, repo  # noqa: F401 - fixture
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    client,
    fake,
    push,
    push_payload,
    send,
)
from tests.app.test_superseding import until
from tests.app.test_webhook import example


async def delivery(http: httpx.AsyncClient, delivery_id: str) -> Delivery:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.scalar(select(Delivery).where(Delivery.id == delivery_id))
        assert row is not None
        return row


def rerun(sha: str) -> dict[str, Any]:
    payload = copy.deepcopy(example("check_run", "rerequested"))
    payload["check_run"]["check_suite"].update(head_sha=sha, head_branch="main")
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    return payload


async def test_a_rate_limit_that_resets_soon_is_waited_for(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    fake.failures["GET /git/blobs/"] = [rate_limited(1)]
    await push(client, push_payload(head(repo)), "p-1")
    assert fake.count("GET", "/git/blobs/") == FILES + 1  # one of them asked again
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    assert (await delivery(client, "p-1")).status == "done"


async def test_a_spent_quota_ends_the_job_cleanly_and_a_rerun_judges_it(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    fake.failures["GET /git/blobs/"] = [rate_limited(3600)]
    await push(client, push_payload(sha), "p-1")
    [run_id] = fake.check_runs[sha]
    final = fake.calls("PATCH", f"/check-runs/{run_id}")[-1].body
    assert final["status"] == "completed"
    assert final["conclusion"] == "cancelled"
    assert final["output"]["title"].startswith("Not analysed: GitHub API rate limit (until ")
    assert "Re-run" in final["output"]["summary"]
    row = await delivery(client, "p-1")
    assert row.status == "rate_limited"
    assert row.retry_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=3600)
    assert abs(row.retry_at.replace(tzinfo=UTC) - expected) < timedelta(seconds=30)
    assert "rate limit exhausted until" in (row.error or "")

    await send(client, "check_run", rerun(sha), "cr-1")  # the Re-run button, after the reset
    assert len(fake.check_runs[sha]) == 2
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    assert (await delivery(client, "cr-1")).status == "done"


async def test_a_response_that_spends_the_quota_stops_the_following_requests(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    fake.response_headers["GET /git/trees/"] = [spent_quota(3600)]
    await push(client, push_payload(head(repo)), "p-1")
    assert fake.count("GET", "/git/trees/") == 1
    assert fake.count("GET", "/git/blobs/") == 0  # none sent: GitHub would refuse them all
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "cancelled"
    assert (await delivery(client, "p-1")).status == "rate_limited"


async def test_an_internal_error_closes_the_check_run_and_the_next_delivery_judges_again(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    fake.failures["GET /git/trees/"] = [422]  # an answer, not an outage: no use trying again
    await push(client, push_payload(sha), "p-1")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert (final["status"], final["conclusion"]) == ("completed", "failure")
    assert final["output"]["title"] == "stopship could not analyse this commit"
    assert (await delivery(client, "p-1")).status == "failed"

    suite = copy.deepcopy(example("check_suite", "rerequested"))
    suite["action"] = "requested"  # not a re-run: judged because the failed job let go of it
    suite["check_suite"].update(head_sha=sha, head_branch="main")
    suite["repository"]["full_name"] = "octo/shop"
    suite["installation"] = {"id": 77}
    await send(client, "check_suite", suite, "cs-1")
    assert (await delivery(client, "cs-1")).status == "done"
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"


async def test_a_spent_quota_at_check_run_creation_leaves_the_commit_to_the_next_delivery(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    fake.failures["POST /check-runs"] = [rate_limited(3600)]
    await push(client, push_payload(sha), "p-1")
    assert sha not in fake.check_runs  # no check run could be created, none is left open
    assert (await delivery(client, "p-1")).status == "rate_limited"

    suite = copy.deepcopy(example("check_suite", "rerequested"))
    suite["action"] = "requested"
    suite["check_suite"].update(head_sha=sha, head_branch="main")
    suite["repository"]["full_name"] = "octo/shop"
    suite["installation"] = {"id": 77}
    await send(client, "check_suite", suite, "cs-1")
    assert (await delivery(client, "cs-1")).status == "done"
    assert len(fake.check_runs[sha]) == 1


async def test_a_job_cancelled_mid_analysis_closes_its_check_run(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    app = client.app  # type: ignore[attr-defined]
    async with app.state.sessions() as session:
        session.add(Delivery(id="p-1", event="push", payload="{}", status="running"))
        await session.commit()
    gate = threading.Event()
    fake.holds["GET /git/blobs/"] = gate
    target = Target("octo", "shop", sha, gate_branch="main", config_ref=sha)
    job = asyncio.create_task(
        judge(app.state.github, app.state.sessions, "p-1", place_of(push_payload(sha)), target)
    )
    await until(lambda: fake.count("GET", "/git/blobs/") >= 1)
    job.cancel()  # as at shutdown
    with pytest.raises(asyncio.CancelledError):
        await job
    gate.set()
    [run_id] = fake.check_runs[sha]
    final = fake.calls("PATCH", f"/check-runs/{run_id}")[-1].body
    assert (final["status"], final["conclusion"]) == ("completed", "cancelled")
    assert final["output"]["title"] == "stopship was interrupted"


def place_of(payload: dict[str, Any]) -> Place:
    return parse_event("push", payload).place
