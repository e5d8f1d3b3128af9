"""Incremental analysis, counted in requests the fake GitHub received: a first analysis fetches
each file once, a later push fetches only what changed, a rename or an already-analysed branch
fetches nothing, a large first scan takes one tarball, a truncated tree falls back to it, and a
rule change re-analyses only the files that rule looks at."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from app.engine.ruleset import default_rules_dir, load_ruleset
from app.github.events import Place, parse_event
from app.jobs.analyse import Target, evaluate, judge
from app.store.models import Analysis, Delivery, FindingRow
from tests.app.fake_github import FakeGitHub
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    BAD,
    GOOD,
    client,
    fake,
    push,
    push_payload,
)
from tests.gitrepo import git

CONFIG = "launch: {stage: beta}\n"
MODULES = 10


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / ".github").mkdir()
    (root / ".github" / "stopship.yml").write_text(CONFIG)
    (root / ".gitignore").write_text(".env\n")
    (root / "README.md").write_text("# shop\n")
    (root / "app" / "users.py").write_text(BAD)
    (root / "app" / "main.py").write_text("import structlog\nlog = structlog.get_logger()\n")
    for i in range(MODULES):
        (root / "app" / f"mod{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


FILES = MODULES + 5  # config, .gitignore, README, users.py, main.py


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def commit(repo: Path, message: str, files: dict[str, str] | None = None) -> str:
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return head(repo)


def pushed(repo: Path, before: str, after: str, branch: str = "main") -> dict[str, Any]:
    """A push payload as GitHub sends it for an existing branch: before, after and the commit's
    added / modified / removed files."""
    payload = push_payload(after, branch)
    changes: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
    for line in git(repo, "diff", "--name-status", "--no-renames", before, after).splitlines():
        status, name = line.split("\t", 1)
        key = {"A": "added", "D": "removed"}.get(status[0], "modified")
        changes[key].append(name)
    payload.update(before=before, created=False, forced=False)
    payload["commits"] = [{"id": after, "distinct": True, "message": "change", **changes}]
    return payload


async def test_a_second_push_costs_one_tree_and_one_blob_request(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    first = head(repo)
    await push(client, push_payload(first), "p-1")
    # the first analysis reads every file once (the config's blob serves both purposes)
    assert fake.count("GET", "/git/trees/") == 1
    assert fake.count("GET", "/git/blobs/") == FILES
    assert fake.count("GET", "/contents/") == 0
    assert fake.count("GET", "/tarball/") == 0
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = list(await session.scalars(select(FindingRow)))
    assert ("SEC002", "app/users.py", 2, True) in {
        (r.rule, r.path, r.line, r.stop_ship) for r in rows
    }

    second = commit(repo, "fix", {"app/users.py": GOOD})
    fake.requests.clear()
    await push(client, pushed(repo, first, second), "p-2")
    trees, blobs = fake.calls("GET", "/git/trees/"), fake.calls("GET", "/git/blobs/")
    assert [t.path.rsplit("/", 1)[-1] for t in trees] == [second]
    assert [b.path.rsplit("/", 1)[-1] for b in blobs] == [
        git(repo, "rev-parse", "HEAD:app/users.py")
    ]
    # the unchanged config came from the database, the tags were listed by the first push (there
    # is no release tag: no commit is walked for one); besides the pull requests of the commit
    # (none: it is judged as a push) nothing else was read
    reads = [r for r in fake.requests if r.method == "GET"]
    assert len(reads) == 3
    assert len(fake.calls("GET", "/tags")) == 0
    assert len(fake.calls("GET", f"/commits/{second}/pulls")) == 1
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "success"


async def test_annotations_of_a_push_are_on_the_files_it_changed(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    first = head(repo)
    await push(client, push_payload(first), "p-1")
    second = commit(repo, "admin", {"app/admin.py": BAD.replace("find", "admin_find")})
    await push(client, pushed(repo, first, second), "p-2")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    assert {a["path"] for a in final["output"]["annotations"]} == {"app/admin.py"}
    # the summary still lists every stop-ship of the branch
    assert "app/users.py" in final["output"]["summary"]


async def test_a_push_that_only_renames_a_file_fetches_no_blob(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    first = head(repo)
    await push(client, push_payload(first), "p-1")
    git(repo, "mv", "app/users.py", "app/accounts.py")
    second = commit(repo, "rename")
    fake.requests.clear()
    await push(client, pushed(repo, first, second), "p-2")
    assert fake.count("GET", "/git/trees/") == 1
    assert fake.count("GET", "/git/blobs/") == 0
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    [note] = [a for a in final["output"]["annotations"] if a["annotation_level"] == "failure"]
    assert note["path"] == "app/accounts.py"


async def test_paths_the_config_ignores_and_large_files_are_never_fetched(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = commit(
        repo,
        "ignore legacy",
        {
            ".github/stopship.yml": CONFIG + "ignore_paths: ['legacy/**']\n",
            "legacy/old.py": BAD + "# the old one\n",
            "data/big.sql": "-- " + "x" * (1024 * 1024 + 1) + "\n",
        },
    )
    await push(client, push_payload(sha), "p-1")
    fetched = {b.path.rsplit("/", 1)[-1] for b in fake.calls("GET", "/git/blobs/")}
    assert git(repo, "rev-parse", "HEAD:legacy/old.py") not in fetched
    assert git(repo, "rev-parse", "HEAD:data/big.sql") not in fetched
    assert len(fetched) == FILES
    summary = fake.calls("PATCH", "/check-runs/")[-1].body["output"]["summary"]
    assert "legacy/old.py" not in summary


def many_files(repo: Path, count: int) -> dict[str, str]:
    return {f"pkg/gen{i}.py": f"VALUE_{i} = {i}\n" for i in range(count)}


async def test_a_first_scan_of_many_files_reads_one_tarball(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = commit(repo, "many", many_files(repo, 220))
    await push(client, push_payload(sha), "p-1")
    tarball = fake.calls("GET", "/tarball/")
    assert [t.path for t in tarball] == [f"/repos/octo/shop/tarball/{sha}"]
    assert fake.count("GET", "/_codeload/") == 1  # the redirect was followed
    assert fake.count("GET", "/git/blobs/") == 1  # only the config, read before the scan
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"  # app/users.py came from the tarball
    # the token is not sent to the archive's host: here the same host, so httpx keeps it; on
    # GitHub the archive is on codeload.github.com and httpx drops Authorization on redirect

    second = commit(repo, "one more", {"pkg/gen7.py": "VALUE_7 = 8\n"})
    fake.requests.clear()
    await push(client, pushed(repo, sha, second), "p-2")
    assert fake.count("GET", "/git/trees/") == 1
    assert fake.count("GET", "/git/blobs/") == 1
    assert fake.count("GET", "/tarball/") == 0


async def test_a_truncated_tree_falls_back_to_the_tarball(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    fake.truncate_trees_at = 5
    sha = head(repo)
    await push(client, push_payload(sha), "p-1")
    assert fake.count("GET", "/git/trees/") == 1
    assert fake.count("GET", "/tarball/") == 1
    assert fake.count("GET", "/git/blobs/") == 0
    assert fake.count("GET", "/contents/.github/stopship.yml") == 1  # no complete tree to name it
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    [note] = [a for a in final["output"]["annotations"] if a["annotation_level"] == "failure"]
    assert note["path"] == "app/users.py"


async def test_a_ruleset_change_reanalyses_only_the_files_of_the_changed_rule(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
    tmp_path: Path,
) -> None:
    sha = head(repo)
    await push(client, push_payload(sha), "p-1")
    assert fake.count("GET", "/git/blobs/") == FILES

    # a new release changes one rule that looks at Python only (its detector got better)
    rules_dir = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules_dir)
    security = rules_dir / "security.yml"
    data = yaml.safe_load(security.read_text())
    [rule] = [r for r in data["rules"] if r["id"] == "SEC002"]
    rule["languages"] = ["python"]
    security.write_text(yaml.safe_dump(data, sort_keys=False))
    upgraded = load_ruleset(rules_dir)
    python = {p for p in git(repo, "ls-files").splitlines() if p.endswith(".py")}

    app = client.app  # type: ignore[attr-defined]
    sessions = app.state.sessions
    async with sessions() as session:
        session.add(Delivery(id="p-2", event="push", payload="{}", status="running"))
        await session.commit()
    target = Target("octo", "shop", sha, gate_branch="main", config_ref=sha)
    fake.requests.clear()
    status = await judge(
        app.state.github, sessions, "p-2", place_of(push_payload(sha)), target, upgraded
    )
    assert status == "done"
    fetched = {b.path.rsplit("/", 1)[-1] for b in fake.calls("GET", "/git/blobs/")}
    assert fetched == {git(repo, "rev-parse", f"HEAD:{p}") for p in python}
    assert fake.count("GET", "/contents/") == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Analysis)) == 2


async def test_evaluate_judges_without_publishing_and_caches_as_it_goes(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    sha = head(repo)
    app = client.app  # type: ignore[attr-defined]
    target = Target("octo", "shop", sha, gate_branch="main", config_ref=sha)
    first = await evaluate(app.state.github(77), app.state.sessions, 1, "octo/shop", target)
    assert [f.rule for f in first.report.stop_ship] == ["SEC002"]
    assert len(first.fresh) == FILES and first.fetched == FILES
    assert fake.calls("POST", "/check-runs") == [] and fake.calls("PATCH", "/check-runs") == []
    again = await evaluate(app.state.github(77), app.state.sessions, 1, "octo/shop", target)
    assert again.fresh == {} and again.fetched == 0
    assert fake.count("GET", "/git/blobs/") == FILES


def place_of(payload: dict[str, Any]) -> Place:
    return parse_event("push", payload).place
