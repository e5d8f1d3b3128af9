"""No way around the gate (against the fake GitHub, on SQLite and PostgreSQL): the latest
`Production readiness` run on a failing pull request's head is `failure` whatever events follow
(re-runs of same-repository and fork pull requests, a pull request that adds a suppression or
relaxes its own config, a push and a check suite before or after the pull request event), and an
indented command is code, not a command."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.app_harness import send
from tests.app.fake_github import FakeGitHub
from tests.app.test_commands import (  # noqa: F401 - fixtures
    PR,
    client,
    command,
    fake,
    repo,
    waivers,
)
from tests.app.test_push_analysis import pull_request_payload, push_payload
from tests.app.test_webhook import example
from tests.gitrepo import git

# every payload names the same repository (GitHub's examples each name their own)
REPOSITORY_ID = example("pull_request", "opened")["repository"]["id"]
INJECTION = 'def drop(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'


def shas(repo: Path) -> tuple[str, str]:
    return git(repo, "rev-parse", "main"), git(repo, "rev-parse", "topic")


def latest_run(fake: FakeGitHub, sha: str) -> dict[str, Any]:
    """The final update of the newest check run on `sha` (what branch protection reads)."""
    run_id = fake.check_runs[sha][-1]
    updates = [c.body for c in fake.calls("PATCH", f"/check-runs/{run_id}")]
    final = [u for u in updates if u.get("status") == "completed"]
    assert final, f"check run {run_id} was never completed"
    return final[-1]


def rerun_payload(sha: str, run_id: int, pulls: list[dict[str, Any]]) -> dict[str, Any]:
    payload = copy.deepcopy(example("check_run", "rerequested"))
    payload["check_run"].update(id=run_id, head_sha=sha, pull_requests=pulls)
    payload["check_run"]["check_suite"].update(head_sha=sha, head_branch="topic")
    payload["repository"].update(id=REPOSITORY_ID, full_name="octo/shop", name="shop")
    payload["installation"] = {"id": 77}
    return payload


def check_suite_payload(sha: str, action: str, pulls: list[dict[str, Any]]) -> dict[str, Any]:
    payload = copy.deepcopy(example("check_suite", "rerequested"))
    payload["action"] = action
    payload["check_suite"].update(head_sha=sha, head_branch="topic", pull_requests=pulls)
    payload["repository"].update(id=REPOSITORY_ID, full_name="octo/shop", name="shop")
    payload["installation"] = {"id": 77}
    return payload


def pull_list(base: str, head: str) -> list[dict[str, Any]]:
    """A check suite's `pull_requests` for pull request #7 (GitHub sends none for a fork)."""
    return [
        {
            "id": 1,
            "number": PR,
            "url": f"https://api.github.com/repos/octo/shop/pulls/{PR}",
            "head": {"ref": "topic", "sha": head, "repo": {"id": 1, "name": "shop", "url": "x"}},
            "base": {"ref": "main", "sha": base, "repo": {"id": 1, "name": "shop", "url": "x"}},
        }
    ]


async def open_pull_request(client: httpx.AsyncClient, repo: Path) -> tuple[str, str]:
    base, head = shas(repo)
    payload = pull_request_payload(repo, base, head)
    payload["pull_request"]["number"] = PR
    await send(client, "pull_request", payload, "pr-7")
    return base, head


@pytest.mark.parametrize("fork", [False, True], ids=["same-repository", "fork"])
async def test_a_rerun_of_a_failing_pull_request_stays_failure(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path, fork: bool
) -> None:
    if fork:
        fake.fork_pulls.add(PR)
    base, head = await open_pull_request(client, repo)
    first = latest_run(fake, head)
    assert first["conclusion"] == "failure"
    pulls = [] if fork else pull_list(base, head)
    await send(client, "check_run", rerun_payload(head, fake.check_runs[head][-1], pulls), "rr-1")
    assert len(fake.check_runs[head]) == 2  # judged again
    again = latest_run(fake, head)
    assert again["conclusion"] == "failure"
    # and it annotates what the original run annotated: the introduced finding
    assert [a["path"] for a in again["output"]["annotations"]] == ["app/admin.py"]
    assert "on a pull request into main" in again["output"]["summary"]


async def test_a_rerun_of_a_pull_request_that_silences_itself_stays_failure(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    git(repo, "checkout", "-q", "topic")
    (repo / "app" / "admin.py").write_text(
        INJECTION.replace('{x}")\n', '{x}")  # stopship: ignore[SEC002] trust me\n')
    )
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("rules:\n  disable: [SEC002]\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "silence it")
    git(repo, "checkout", "-q", "main")
    base, head = await open_pull_request(client, repo)
    assert latest_run(fake, head)["conclusion"] == "failure"
    for pulls in (pull_list(base, head), []):
        run_id = fake.check_runs[head][-1]
        await send(client, "check_run", rerun_payload(head, run_id, pulls), f"rr-{len(pulls)}")
        assert latest_run(fake, head)["conclusion"] == "failure"
    await send(client, "check_suite", check_suite_payload(head, "rerequested", []), "cs-rr")
    assert latest_run(fake, head)["conclusion"] == "failure"


@pytest.mark.parametrize("order", ["pull request first", "push first"])
async def test_a_push_and_a_check_suite_cannot_soften_the_pull_requests_verdict(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path, order: str
) -> None:
    base, head = shas(repo)
    push = push_payload(head, "topic")
    push["repository"]["id"] = REPOSITORY_ID
    suite = check_suite_payload(head, "requested", pull_list(base, head))
    if order == "pull request first":
        await open_pull_request(client, repo)
        await send(client, "push", push, "p-topic")
        await send(client, "check_suite", suite, "cs-1")
    else:
        await send(client, "push", push, "p-topic")
        await send(client, "check_suite", suite, "cs-1")
        await open_pull_request(client, repo)
    assert latest_run(fake, head)["conclusion"] == "failure"
    conclusions = {
        c.body["conclusion"] for c in fake.calls("PATCH", "/check-runs/") if "conclusion" in c.body
    }
    assert conclusions == {"failure"}  # no run on the head was ever softer


async def test_a_fork_check_suite_is_not_judged_as_a_push_to_its_branch(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    """A fork's commit is not the tip of any branch here: its check suite (no pull requests
    listed) is not judged as a push, so the fork's own config cannot make it pass."""
    git(repo, "checkout", "-q", "-b", "fork-main", "topic")
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("rules:\n  disable: [SEC002]\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "fork relaxes its config")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    git(repo, "update-ref", "-d", "refs/heads/fork-main")  # the branch lives in the fork
    await send(client, "check_suite", check_suite_payload(sha, "requested", []), "cs-fork")
    assert sha not in fake.check_runs


async def test_an_indented_waive_is_code_and_records_nothing(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    body = "Here is how you would waive it:\n\n    /production waive abcdef12 accepted risk\n"
    assert await command(client, fake, body) == "ignored"
    assert await waivers(client) == []
    assert fake.replies(PR) == []
