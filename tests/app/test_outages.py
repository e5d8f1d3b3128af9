"""GitHub unavailable for a while (502s past the client's quick retries): the delivery is kept
`retrying` with a `retry_at`, its check run stays `in_progress` under the same id, and once
GitHub is back the retry completes that check run (no second one). An outage that outlasts the
deadline completes the check run `failure` with the reason and fails the delivery. Check runs
GitHub created though its answer was lost are found again (by their external id), not left open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from app.jobs.retries import OUTAGE_DEADLINE, OUTAGE_FIRST_RETRY
from app.store.models import Delivery
from tests.app.app_harness import running_app
from tests.app.fake_github import FakeGitHub, Raw, start
from tests.app.test_incremental import head, repo  # noqa: F401 - fixture
from tests.app.test_job_failures import delivery
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    client,
    fake,
    push,
    push_payload,
)
from tests.gitrepo import git

BAD_GATEWAY = [502, 502, 502]  # the client's quick tries, all refused


async def time_passes(http: httpx.AsyncClient, delivery_id: str, outage_began: bool = False) -> int:
    """As if the delivery's retry time had come (and, with `outage_began`, the outage had lasted
    past the deadline): the queue runs it again; returns how many deliveries it released."""
    app = http.app  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    values: dict[str, datetime] = {"retry_at": now - timedelta(seconds=1)}
    if outage_began:
        values["failing_since"] = now - OUTAGE_DEADLINE - timedelta(seconds=1)
    async with app.state.sessions() as session:
        await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
        await session.commit()
    released = int(await app.state.queue.retry_due())
    await app.state.queue.drain()
    return released


def completions(fake: FakeGitHub, run_id: int) -> list[dict[str, object]]:
    return [c.body for c in fake.calls("PATCH", f"/check-runs/{run_id}") if "conclusion" in c.body]


async def test_a_502_for_a_while_keeps_the_delivery_and_the_retry_completes_the_same_run(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = head(repo)
    fake.failures["GET /git/trees/"] = list(BAD_GATEWAY)
    started = datetime.now(UTC)
    await push(client, push_payload(sha), "p-1")
    row = await delivery(client, "p-1")
    assert row.status == "retrying"
    assert row.retry_at is not None and row.failing_since is not None
    wait = row.retry_at.replace(tzinfo=UTC) - started
    assert OUTAGE_FIRST_RETRY <= wait < OUTAGE_FIRST_RETRY + timedelta(seconds=30)
    assert "GitHub answered 502 to GET /repos/octo/shop/git/trees/" in (row.error or "")
    [run_id] = fake.check_runs[sha]
    assert completions(fake, run_id) == []  # in progress: the verdict is still to come

    fake.failures["GET /git/trees/"] = list(BAD_GATEWAY)  # still down at the first retry
    assert await time_passes(client, "p-1") == 1
    again = await delivery(client, "p-1")
    assert again.status == "retrying"
    assert again.failing_since == row.failing_since  # one outage, its wait growing
    assert again.retry_at is not None and again.retry_at > row.retry_at

    assert await time_passes(client, "p-1") == 1  # GitHub is back
    assert (await delivery(client, "p-1")).status == "done"
    assert fake.check_runs[sha] == [run_id]  # the same run, no second one
    [final] = completions(fake, run_id)
    assert (final["status"], final["conclusion"]) == ("completed", "failure")  # a stop-ship
    assert str(final["output"]["title"]).startswith("Score ")  # type: ignore[index]


async def test_an_outage_at_check_run_creation_is_retried_and_judged_once_back(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = head(repo)
    fake.failures["POST /check-runs"] = list(BAD_GATEWAY)
    await push(client, push_payload(sha), "p-1")
    assert sha not in fake.check_runs
    assert (await delivery(client, "p-1")).status == "retrying"

    assert await time_passes(client, "p-1") == 1
    assert (await delivery(client, "p-1")).status == "done"
    [run_id] = fake.check_runs[sha]
    assert [c["status"] for c in completions(fake, run_id)] == ["completed"]


async def test_an_outage_past_the_deadline_completes_the_run_failure_with_the_reason(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = head(repo)
    fake.failures["GET /git/trees/"] = list(BAD_GATEWAY)
    await push(client, push_payload(sha), "p-1")
    [run_id] = fake.check_runs[sha]
    assert completions(fake, run_id) == []

    fake.failures["GET /git/trees/"] = list(BAD_GATEWAY)  # still down, an hour later
    assert await time_passes(client, "p-1", outage_began=True) == 1
    row = await delivery(client, "p-1")
    assert row.status == "failed"
    assert row.retry_at is None
    assert "GitHub was unavailable from " in (row.error or "")
    assert fake.check_runs[sha] == [run_id]
    [final] = completions(fake, run_id)
    assert (final["status"], final["conclusion"]) == ("completed", "failure")
    output = final["output"]
    assert output["title"] == "stopship could not analyse this commit"  # type: ignore[index]
    assert "GitHub answered 502 to GET /repos/octo/shop/git/trees/" in output["summary"]  # type: ignore[index]
    assert await time_passes(client, "p-1") == 0  # failed: not released again


async def test_a_delivery_superseded_while_it_waits_completes_its_run_neutral(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    first = head(repo)
    fake.failures["GET /git/trees/"] = list(BAD_GATEWAY)
    await push(client, push_payload(first), "p-1")
    [run_id] = fake.check_runs[first]
    (repo / "README.md").write_text("shop\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "second")
    await push(client, push_payload(head(repo)), "p-2")  # GitHub is back; a newer push

    assert await time_passes(client, "p-1") == 1
    assert (await delivery(client, "p-1")).status == "superseded"
    [final] = completions(fake, run_id)
    assert (final["status"], final["conclusion"]) == ("completed", "neutral")
    assert final["output"]["title"] == "Superseded by a newer commit"  # type: ignore[index]


@dataclass
class LostAnswers(FakeGitHub):
    """GitHub creating the check run but answering 502 (the answer lost on its way back), for
    the first `lost` tries."""

    lost: int = 0

    def respond(
        self, method: str, path: str, body: Any, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        answered = super().respond(method, path, body, query)
        if method == "POST" and path.endswith("/check-runs") and self.lost > 0:
            self.lost -= 1
            return 502, Raw(b'{"message": "Bad Gateway"}', content_type="application/json")
        return answered


async def test_runs_created_though_github_answered_502_are_reused_not_left_open(
    database_url: str, repo: Path
) -> None:
    github = LostAnswers(repo_dir=repo, lost=len(BAD_GATEWAY))
    server = start(github)
    try:
        async with running_app(database_url, github) as http:
            sha = head(repo)
            await push(http, push_payload(sha), "p-1")
            assert len(github.check_runs[sha]) == len(BAD_GATEWAY)  # created, answers lost
            assert (await delivery(http, "p-1")).status == "retrying"

            assert await time_passes(http, "p-1") == 1
            assert (await delivery(http, "p-1")).status == "done"
    finally:
        server.shutdown()
    assert github.problems == []
    runs = github.check_runs[sha]
    assert len(runs) == len(BAD_GATEWAY)  # none added: the newest is reused
    assert {r: s["status"] for r, s in github.run_states.items()} == dict.fromkeys(
        runs, "completed"
    )
    verdict = completions(github, max(runs))
    assert [c["conclusion"] for c in verdict] == ["failure"]  # the stop-ship on main
    for older in sorted(runs)[:-1]:
        [closed] = completions(github, older)
        assert closed["conclusion"] == "neutral"
        assert closed["output"]["title"] == "Replaced"  # type: ignore[index]
