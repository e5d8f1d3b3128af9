"""Issue 13: what the check summary says beyond the tree. Dependabot alerts as findings (stop-ship
by strictness, "not checked" without the permission), whether merges into a release branch wait
for the check (rulesets, classic protection, neither readable), the default branch's score trend
and the readiness badge (public repositories only). Every request is checked against GitHub's
OpenAPI description by the fake GitHub."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.app_harness import running_app, send
from tests.app.fake_github import FakeGitHub, example, start
from tests.app.test_commands import command, fake_serving, reply, shop_with_pull_request
from tests.app.test_push_analysis import GOOD, INJECTION, push_payload
from tests.app.test_webhook import example as webhook_example
from tests.gitrepo import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(GOOD)
    (root / "requirements.txt").write_text("django==2.0.1\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


@pytest.fixture
def fake(repo: Path) -> Iterator[FakeGitHub]:
    github = FakeGitHub(repo_dir=repo)
    server = start(github)
    yield github
    server.shutdown()
    assert github.problems == [], github.problems


@pytest.fixture
async def client(database_url: str, fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(database_url, fake) as http:
        yield http


def alert(severity: str, fixed: str | None = "2.0.2") -> dict[str, Any]:
    item = copy.deepcopy(example("GET", "/repos/o/r/dependabot/alerts", "200")[0])
    item["state"] = "open"
    item["dependency"]["manifest_path"] = "requirements.txt"
    item["security_vulnerability"]["severity"] = severity
    item["security_vulnerability"]["first_patched_version"] = (
        {"identifier": fixed} if fixed else None
    )
    return item


def payload(sha: str, branch: str = "main", private: bool = False) -> dict[str, Any]:
    body = push_payload(sha, branch)
    body["repository"].update(private=private, default_branch="main")
    return body


def summary(fake: FakeGitHub) -> tuple[str, str]:
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    return final["conclusion"], final["output"]["summary"]


def launch(repo: Path, stage: str) -> str:
    (repo / ".github").mkdir(exist_ok=True)
    (repo / ".github" / "stopship.yml").write_text(f"launch: {{stage: {stage}}}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", stage)
    return git(repo, "rev-parse", "HEAD")


async def test_a_critical_alert_is_a_finding_and_stop_ship_at_public(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    fake.dependabot_alerts = [alert("critical"), alert("medium")]
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "d-1")
    conclusion, text = summary(fake)
    assert conclusion == "success"  # beta: a critical dependency is not stop-ship
    assert "SEC029 vulnerable-dependency-critical" in text
    assert "`requirements.txt`" in text and "GHSA-rf4j-j272-fj86" in text
    assert "SEC028" not in text  # the medium alert is not asked for nor reported

    await send(client, "push", payload(launch(repo, "public")), "d-2")
    conclusion, text = summary(fake)
    assert conclusion == "failure"
    stop_ship = text.split("### Stop-ship", 1)[1]
    assert "SEC029" in stop_ship and "to 2.0.2 or later" in stop_ship
    [asked] = {c.path for c in fake.calls("GET", "/dependabot/alerts")}
    assert asked == "/repos/octo/shop/dependabot/alerts"


async def test_without_the_permission_the_alerts_are_not_checked(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    fake.dependabot_alerts = None  # 403
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "d-3")
    _, text = summary(fake)
    assert "**Not checked:** Dependabot alerts" in text
    assert "SEC029" not in text


@pytest.mark.parametrize(
    ("rules", "classic", "expected", "absent"),
    [
        ([], {}, "are **NOT blocked** by this check: require it in a ruleset", "wait for"),
        (
            [{"type": "required_status_checks", "parameters": {
                "strict_required_status_checks_policy": False,
                "required_status_checks": [{"context": "Production readiness"}]}}],
            None,
            "Merges into `main` wait for this check (required by a ruleset)",
            "NOT blocked",
        ),
        ([], {"main": ["Production readiness"]}, "required by classic branch protection",
         "NOT blocked"),
        ([], None, "cannot see whether merges into `main` wait", "NOT blocked"),
    ],
)  # fmt: skip
async def test_the_summary_says_whether_merges_wait_for_the_check(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
    rules: list[dict[str, Any]],
    classic: dict[str, list[str]] | None,
    expected: str,
    absent: str,
) -> None:
    fake.branch_rules = {"main": rules}
    fake.classic_checks = classic
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "e-1")
    _, text = summary(fake)
    line = text.split("**Enforcement:** ", 1)[1].split("\n", 1)[0]
    assert expected in line and absent not in line, line


async def test_branch_rules_are_not_asked_outside_release_branches_and_are_kept(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD"), "feature/x"), "e-2")
    _, text = summary(fake)
    assert "**Enforcement:**" not in text
    assert fake.calls("GET", "/rules/branches/") == []
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "e-3")
    (repo / "README.md").write_text("shop\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "readme")
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "e-4")
    assert len(fake.calls("GET", "/rules/branches/main")) == 1  # the second push: cached


async def test_the_trend_and_the_badge_of_a_public_repository(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    assert (await client.get("/badge/octo/shop.svg")).status_code == 404  # never judged
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "t-1")
    _, text = summary(fake)
    assert "**Trend:**" not in text  # one analysis is no trend
    (repo / "app" / "admin.py").write_text(INJECTION)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "worse")
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD")), "t-2")
    _, text = summary(fake)
    trend = text.split("**Trend:** ", 1)[1].split("  \n", 1)[0]
    first, _, rest = trend.partition(" → ")
    assert rest.endswith(" over the last 2 pushes") and int(first) > int(rest.split()[0])

    badge = await client.get("/badge/octo/shop.svg")
    assert badge.status_code == 200
    assert badge.headers["content-type"].startswith("image/svg+xml")
    assert badge.headers["cache-control"] == "public, max-age=300"
    assert "readiness: grade" in badge.text and rest.split()[0] in badge.text
    assert (await client.get("/badge/octo/other.svg")).status_code == 404


async def test_a_private_repository_has_no_badge(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    await send(client, "push", payload(git(repo, "rev-parse", "HEAD"), private=True), "b-1")
    hidden = await client.get("/badge/octo/shop.svg")
    unknown = await client.get("/badge/octo/nothing.svg")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.text == unknown.text
    alike = ("content-type", "content-length", "cache-control")
    assert [hidden.headers[h] for h in alike] == [unknown.headers[h] for h in alike]


async def test_the_stakeholder_report_shows_the_default_branch_trend(
    database_url: str, tmp_path: Path
) -> None:
    repo = shop_with_pull_request(tmp_path)
    with fake_serving(repo) as fake:
        async with running_app(database_url, fake) as http:
            await send(http, "push", payload(git(repo, "rev-parse", "HEAD")), "r-1")
            git(repo, "merge", "-q", "--ff-only", "topic")  # the SQL injection reaches main
            await send(http, "push", payload(git(repo, "rev-parse", "HEAD")), "r-2")
            _, text = summary(fake)
            [trend] = [line for line in text.splitlines() if line.startswith("**Trend:**")]
            assert await command(http, fake, "/production report") == "done"
            body = reply(fake, "report")["body"]
    shown = trend.removeprefix("**Trend:** ").strip()
    assert shown.endswith("over the last 2 pushes") and " → " in shown
    assert f"- Trend: {shown}" in body


async def test_a_repository_made_private_loses_its_badge(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    body = payload(git(repo, "rev-parse", "HEAD"))
    await send(client, "push", body, "v-1")
    assert (await client.get("/badge/octo/shop.svg")).status_code == 200
    added = copy.deepcopy(webhook_example("installation_repositories", "added"))
    item = dict(added["repositories_added"][0], id=body["repository"]["id"], private=True)
    added.update(repositories_added=[item], installation={"id": 77})
    await send(client, "installation_repositories", added, "v-2")
    assert (await client.get("/badge/octo/shop.svg")).status_code == 404
