"""End to end: a signed `push` webhook -> stored delivery -> the inline queue -> tree and blobs read
from a fake GitHub serving a real git repository -> the engine -> the `Production readiness` check
run. Every request the App sends is checked against GitHub's OpenAPI description."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.store.models import Analysis, Delivery
from app.web.signature import sign
from tests.app.app_harness import SECRET, running_app, send
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_webhook import example
from tests.gitrepo import git

BAD = (
    "def find(cursor, name):\n    cursor.execute(f\"SELECT id FROM users WHERE name = '{name}'\")\n"
)
GOOD = (
    'def find(cursor, name):\n    cursor.execute("SELECT id FROM users WHERE name = %s", (name,))\n'
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(BAD)
    (root / "app" / "main.py").write_text("import structlog\nlog = structlog.get_logger()\n")
    (root / ".gitignore").write_text(".env\n")
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


def push_payload(sha: str, branch: str = "main") -> dict[str, Any]:
    payload = copy.deepcopy(example("push"))
    payload.update(after=sha, ref=f"refs/heads/{branch}", deleted=False)
    payload["repository"]["full_name"] = "octo/shop"
    payload["repository"]["name"] = "shop"
    payload["installation"] = {"id": 77}
    return payload


async def push(http: httpx.AsyncClient, payload: dict[str, Any], delivery: str) -> None:
    await send(http, "push", payload, delivery)


async def test_a_stop_ship_on_a_release_branch_fails_and_the_fix_passes(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    first = git(repo, "rev-parse", "HEAD")
    await push(client, push_payload(first), "p-1")
    created = fake.calls("POST", "/repos/octo/shop/check-runs")
    assert [c.body["head_sha"] for c in created] == [first]
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert final["output"]["title"].endswith("NOT READY")
    [note] = [a for a in final["output"]["annotations"] if a["annotation_level"] == "failure"]
    assert (note["path"], note["start_line"], note["title"].split()[0]) == (
        "app/users.py",
        2,
        "SEC002",
    )
    blob_calls = len(fake.calls("GET", "/git/blobs/"))
    assert blob_calls == 3  # every file of the first commit

    (repo / "app" / "users.py").write_text(GOOD)
    git(repo, "commit", "-qam", "fix")
    second = git(repo, "rev-parse", "HEAD")
    await push(client, push_payload(second), "p-2")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "success"
    # only the changed file was fetched: the other results came from the database cache
    assert len(fake.calls("GET", "/git/blobs/")) == blob_calls + 1
    assert len(fake.calls("GET", "/git/trees/")) == 2

    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        analyses = list(await session.scalars(select(Analysis).order_by(Analysis.id)))
        statuses = {d.id: d.status for d in await session.scalars(select(Delivery))}
    assert len(analyses) == 2
    assert (analyses[0].sha, analyses[0].verdict) == (first, "NOT READY")
    assert analyses[1].sha == second and analyses[1].verdict != "NOT READY"
    assert statuses == {"p-1": "done", "p-2": "done"}


async def test_a_stop_ship_outside_release_branches_does_not_fail(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    await push(client, push_payload(git(repo, "rev-parse", "HEAD"), "feature/x"), "p-3")
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "neutral"


async def test_an_invalid_config_fails_the_check_naming_the_key(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("launch: {stage: publik}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "config")
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "p-4")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert "launch.stage" in final["output"]["summary"]


def pull_request_payload(
    repo: Path, base: str, head: str, base_ref: str = "main"
) -> dict[str, Any]:
    payload = copy.deepcopy(example("pull_request", "opened"))
    payload["pull_request"]["base"].update(sha=base, ref=base_ref)
    payload["pull_request"]["head"]["sha"] = head
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    return payload


def pr_commit(repo: Path, files: dict[str, str]) -> tuple[str, str]:
    """A clean base on main, then a branch commit changing `files`: (base sha, head sha)."""
    (repo / "app" / "users.py").write_text(GOOD)
    git(repo, "commit", "-qam", "clean base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "topic")
    for rel, content in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    return base, git(repo, "rev-parse", "HEAD")


INJECTION = 'def drop(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'


async def test_a_pull_request_into_main_with_a_stop_ship_fails(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    base, head = pr_commit(repo, {"app/admin.py": INJECTION})
    await send(client, "pull_request", pull_request_payload(repo, base, head), "pr-1")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    # word for word what the Action says for the same pull request (tests/test_action.py)
    reason = "fails: 1 stop-ship finding open on a pull request into main"
    assert f"**Gate:** {reason}" in final["output"]["summary"]
    paths = {a["path"] for a in final["output"]["annotations"]}
    assert paths == {"app/admin.py"}  # annotations only on the files the PR changes


async def test_a_pull_request_into_a_feature_branch_does_not_fail(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    base, head = pr_commit(repo, {"app/admin.py": INJECTION})
    await send(client, "pull_request", pull_request_payload(repo, base, head, "feature/x"), "pr-2")
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "neutral"


async def test_a_pull_request_cannot_disable_the_rule_or_silence_it(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    silenced = INJECTION.replace('{x}")\n', '{x}")  # stopship: ignore[SEC002] trust me\n')
    base, head = pr_commit(
        repo,
        {
            ".github/stopship.yml": "rules:\n  disable: [SEC002]\n",
            "app/admin.py": silenced,
        },
    )
    await send(client, "pull_request", pull_request_payload(repo, base, head), "pr-3")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert any(
        a["title"].startswith("SEC002") and a["path"] == "app/admin.py"
        for a in final["output"]["annotations"]
    )


async def test_a_merge_group_is_judged_on_its_head_commit(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    base, head = pr_commit(repo, {"app/admin.py": INJECTION})
    payload = copy.deepcopy(example("merge_group", "checks_requested"))
    payload["merge_group"].update(base_sha=base, head_sha=head, base_ref="refs/heads/main")
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    await send(client, "merge_group", payload, "mg-1")
    [created] = fake.calls("POST", "/repos/octo/shop/check-runs")
    assert created.body["head_sha"] == head
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"


async def test_a_rerequested_check_suite_is_judged_again_and_a_redelivery_is_not(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    payload = copy.deepcopy(example("check_suite", "rerequested"))
    payload["check_suite"].update(head_sha=sha, head_branch="main")
    payload["repository"]["full_name"] = "octo/shop"
    payload["installation"] = {"id": 77}
    await send(client, "check_suite", payload, "cs-1")
    body = json.dumps(payload).encode()
    again = await client.post(
        "/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": "check_suite",
            "X-GitHub-Delivery": "cs-1",
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        },
    )
    await client.app.state.queue.drain()  # type: ignore[attr-defined]
    assert again.status_code == 200
    assert len(fake.calls("POST", "/repos/octo/shop/check-runs")) == 1  # one check run
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"


async def test_120_findings_and_a_github_500_through_the_whole_job(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    many = "".join(
        f'def q{i}(c, x):\n    c.execute(f"DELETE FROM t{i} WHERE id = {{x}}")\n'
        for i in range(120)
    )
    (repo / "app" / "users.py").write_text(many)
    git(repo, "commit", "-qam", "many")
    fake.failures["GET /git/trees/"] = [500]  # GitHub fails once; the job retries
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "p-120")
    assert len(fake.calls("GET", "/git/trees/")) == 2
    updates = fake.calls("PATCH", "/check-runs/")
    assert [len(u.body["output"]["annotations"]) for u in updates] == [50, 50, 20]
    assert updates[-1].body["conclusion"] == "failure"


async def test_a_rate_limited_request_waits_as_told_and_succeeds(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    fake.failures["GET /git/blobs/"] = [429]
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "p-429")
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    assert len(fake.calls("GET", "/git/blobs/")) == 4  # three files, one of them asked twice


async def test_a_pull_request_whose_base_changes_is_judged_again(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    base, head = pr_commit(repo, {"app/admin.py": INJECTION})
    payload = pull_request_payload(repo, base, head)
    payload["action"] = "edited"
    payload["changes"] = {"title": {"from": "old title"}}
    await send(client, "pull_request", payload, "pr-title")  # a title edit: nothing to judge
    assert fake.calls("POST", "/check-runs") == []
    payload["changes"] = {"base": {"ref": {"from": "feature/x"}, "sha": {"from": base}}}
    await send(client, "pull_request", payload, "pr-base")
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"


async def test_annotations_over_the_configured_limit_are_counted_in_the_summary(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    many = "".join(
        f'def q{i}(c, x):\n    c.execute(f"DELETE FROM t{i} WHERE id = {{x}}")\n' for i in range(12)
    )
    (repo / "app" / "users.py").write_text(many)
    (repo / "app" / "report.py").write_text("def show(x):\n    print(x)\n")  # low: a notice
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("annotations:\n  max: 5\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "many")
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "p-max")
    [final] = fake.calls("PATCH", "/check-runs/")
    notes = final.body["output"]["annotations"]
    assert len(notes) == 5
    assert all(n["annotation_level"] == "failure" for n in notes)  # stop-ship first
    assert "8 of 13 findings in files are not annotated" in final.body["output"]["summary"]
    assert "`annotations.max` is 5" in final.body["output"]["summary"]


async def test_findings_below_the_configured_annotation_level_are_not_annotated(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    (repo / "app" / "report.py").write_text("def show(x):\n    print(x)\n")  # low: a notice
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("annotations:\n  level: warning\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "notice")
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "p-level")
    [final] = fake.calls("PATCH", "/check-runs/")
    levels = {n["annotation_level"] for n in final.body["output"]["annotations"]}
    assert levels == {"failure"}  # the SQL injection; the print() notice is left out
    assert "below `annotations.level` (warning)" in final.body["output"]["summary"]
    assert "OBS005" in final.body["output"]["summary"]  # still listed in the report


async def test_a_pull_request_from_a_fork_is_judged_through_the_base_repository(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    base, head = pr_commit(repo, {"app/admin.py": INJECTION})
    payload = pull_request_payload(repo, base, head)
    fork = payload["pull_request"]["head"]
    fork["repo"] = copy.deepcopy(payload["repository"])
    fork["repo"].update(id=9999, full_name="contributor/shop", name="shop", fork=True)
    fork["repo"]["owner"] = {**fork["repo"]["owner"], "login": "contributor", "id": 4321}
    fork.update(label="contributor:topic", ref="topic")
    await send(client, "pull_request", payload, "pr-fork")
    [created] = fake.calls("POST", "/check-runs")
    assert created.path == "/repos/octo/shop/check-runs" and created.body["head_sha"] == head
    assert fake.calls("PATCH", "/check-runs/")[-1].body["conclusion"] == "failure"
    # every read went to the base repository, where GitHub serves the fork's commits too
    assert all(r.path.startswith("/repos/octo/shop/") for r in fake.requests if "/repos/" in r.path)
