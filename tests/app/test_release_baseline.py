"""The App judges migrations against the release the next deployment builds on: the latest release
tag reachable from the commit (tags and commits listed from the fake GitHub), the config's
`baseline:`, or for a deployment the environment's last successful deployment; a pull request's
own migrations always count. The CLI, asking git, gives the same answer for the same commits."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.checkout.audit_local import audit_checkout
from app.engine.report import Report
from app.github import comparison
from app.jobs.analyse import Target, evaluate
from tests.app.fake_github import FakeGitHub
from tests.app.test_deployment_gate import deploy, reviews
from tests.app.test_incremental import commit, head, repo  # noqa: F401 - fixture
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    client,
    fake,
    pull_request_payload,
    push,
    push_payload,
    send,
)
from tests.gitrepo import git

NOT_NULL = "ALTER TABLE {table} ADD COLUMN status text NOT NULL;\n"


def migration(number: int, table: str) -> dict[str, str]:
    return {f"db/migrations/{number:04d}_{table}.sql": NOT_NULL.format(table=table)}


def released(repo: Path) -> tuple[str, str]:
    """0001 released as v1.0.0 (annotated tag), then 0002 committed on main."""
    tagged = commit(repo, "orders", migration(1, "orders"))
    git(repo, "tag", "-a", "v1.0.0", "-m", "1.0.0")
    git(repo, "tag", "docs-2024")  # not a release tag
    return tagged, commit(repo, "users", migration(2, "users"))


def judged(report: Report) -> set[str]:
    return {f.path for f in report.findings if f.rule == "DEP008" and f.path}


async def app_report(client: httpx.AsyncClient, target: Target) -> Report:
    app = client.app  # type: ignore[attr-defined]
    evaluation = await evaluate(app.state.github(77), app.state.sessions, 1, "octo/shop", target)
    return evaluation.report


async def test_a_push_judges_only_the_migrations_added_since_the_release_tag(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    _, sha = released(repo)
    await push(client, push_payload(sha), "p-1")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    annotated = {a["path"] for a in final["output"]["annotations"]}
    assert "db/migrations/0002_users.sql" in annotated
    assert "db/migrations/0001_orders.sql" not in annotated
    assert (
        "**Migrations:** 1 migration(s) up to v1.0.0 treated as applied; "
        "1 added or changed since then judged" in final["output"]["summary"]
    )


async def test_the_cli_and_the_app_give_the_same_answer_for_the_same_commits(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    _, sha = released(repo)
    git(repo, "tag", "v1.1.0-rc1")
    newer = commit(repo, "items", migration(3, "items"))
    for commit_sha in (sha, newer):
        git(repo, "checkout", "-q", commit_sha)
        local, _ = audit_checkout(repo, use_cache=False, jobs=1)
        target = Target("octo", "shop", commit_sha, gate_branch="main", config_ref=commit_sha)
        remote = await app_report(client, target)
        assert remote.migrations == local.migrations
        assert judged(remote) == judged(local)
    assert local.migrations is not None and local.migrations.baseline == "v1.1.0-rc1"
    assert judged(local) == {"db/migrations/0003_items.sql"}


async def test_when_the_compare_api_lists_too_many_files_the_trees_decide(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sha = released(repo)
    monkeypatch.setattr(comparison, "MAX_COMPARE_FILES", 1)
    target = Target("octo", "shop", sha, gate_branch="main", config_ref=sha)
    report = await app_report(client, target)
    assert judged(report) == {"db/migrations/0002_users.sql"}
    tag_commit = git(repo, "rev-parse", "v1.0.0^{commit}")
    assert fake.count("GET", f"/git/trees/{tag_commit}") == 1


async def test_a_pull_requests_own_migrations_are_judged_against_its_base(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    _, base = released(repo)
    git(repo, "tag", "v1.1.0")  # the base itself is released: 0002 ran in production
    git(repo, "checkout", "-qb", "topic")
    pr_head = commit(repo, "carts", migration(3, "carts"))
    await send(client, "pull_request", pull_request_payload(repo, base, pr_head), "pr-1")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert {a["path"] for a in final["output"]["annotations"]} == {"db/migrations/0003_carts.sql"}
    assert "2 migration(s) up to v1.1.0 treated as applied" in final["output"]["summary"]


async def test_the_config_names_the_baseline_and_an_unknown_one_fails_the_check(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    tagged, _ = released(repo)
    sha = commit(repo, "config", {".github/stopship.yml": f"baseline: {tagged}\n"})
    report = await app_report(client, Target("octo", "shop", sha, "main", config_ref=sha))
    assert judged(report) == {"db/migrations/0002_users.sql"}
    assert report.migrations is not None and report.migrations.source.endswith("baseline")

    bad = commit(repo, "config", {".github/stopship.yml": "baseline: release-1999\n"})
    await push(client, push_payload(bad), "p-bad")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert "baseline: 'release-1999' is not a commit in octo/shop" in final["output"]["summary"]


async def test_a_deployment_is_judged_against_the_environments_last_successful_deployment(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    tagged, _ = released(repo)
    deployed = commit(repo, "carts", migration(3, "carts"))
    newer = commit(repo, "items", migration(4, "items"))
    fake.deployments = [
        {"id": 12, "sha": newer, "environment": "production", "state": "failure"},
        {"id": 11, "sha": deployed, "environment": "production", "state": "success"},
        {"id": 10, "sha": tagged, "environment": "production", "state": "success"},
        {"id": 9, "sha": newer, "environment": "staging", "state": "success"},
    ]
    assert await deploy(client, newer) == "done"
    [review] = reviews(fake)
    assert review["state"] == "rejected"  # 0004 adds a NOT NULL column: a stop-ship
    assert "0004_items.sql" in review["comment"]
    assert "0003_carts.sql" not in review["comment"] and "0002_users" not in review["comment"]
    target = Target("octo", "shop", newer, "main", config_ref=newer, environment="production")
    report = await app_report(client, target)
    assert judged(report) == {"db/migrations/0004_items.sql"}
    assert report.migrations is not None
    assert report.migrations.baseline == f"deployment 11 to production ({deployed[:7]})"


async def test_tags_are_listed_once_and_again_after_a_tag_is_pushed(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    first = commit(repo, "orders", migration(1, "orders"))
    git(repo, "tag", "v1.0.0")
    second = commit(repo, "users", migration(2, "users"))
    await push(client, push_payload(first), "p-1")
    await push(client, push_payload(second), "p-2")
    assert fake.count("GET", "/repos/octo/shop/tags") == 1  # listed once for both pushes
    runs = len(fake.calls("POST", "/check-runs"))

    git(repo, "tag", "v1.1.0", second)
    tag_push = push_payload(second)
    tag_push["ref"] = "refs/tags/v1.1.0"
    await push(client, tag_push, "p-tag")
    assert len(fake.calls("POST", "/check-runs")) == runs  # a tag judges no commit anew
    third = commit(repo, "items", migration(3, "items"))
    await push(client, push_payload(third), "p-3")
    assert fake.count("GET", "/repos/octo/shop/tags") == 2  # the pushed tag is seen at once
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert "2 migration(s) up to v1.1.0 treated as applied" in final["output"]["summary"]
