"""Pull requests against their base: the check summary says what the pull request introduces,
what it fixes and what was there before; only introduced findings are annotated; a renamed file
brings no "new" finding; a pull request from branches already analysed fetches no blob."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.app.fake_github import FakeGitHub
from tests.app.test_incremental import commit, head, pushed, repo  # noqa: F401 - fixture
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    BAD,
    GOOD,
    INJECTION,
    client,
    fake,
    pull_request_payload,
    push,
    push_payload,
    send,
)
from tests.gitrepo import git

LEGACY = 'def purge(c, table):\n    c.execute(f"DELETE FROM {table}")\n'


async def test_a_pull_request_says_what_it_introduces_fixes_and_found_and_fetches_nothing(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    base = commit(repo, "legacy", {"app/legacy.py": LEGACY})
    await push(client, push_payload(base), "p-main")
    git(repo, "checkout", "-qb", "topic")
    pr_head = commit(
        repo,
        "topic",
        {
            "app/users.py": GOOD,  # fixes the base's finding
            "app/admin.py": INJECTION,  # introduces one
            "app/legacy.py": "# kept for now\n" + LEGACY,  # touched, its finding stays
        },
    )
    await push(client, pushed(repo, base, pr_head, "topic"), "p-topic")
    before = fake.count("GET", "/git/blobs/")

    await send(client, "pull_request", pull_request_payload(repo, base, pr_head), "pr-1")
    assert fake.count("GET", "/git/blobs/") == before  # every blob of both commits was known
    assert fake.count("GET", "/contents/") == 0
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "failure"
    summary = final["output"]["summary"]
    assert f"### Against the base `{base[:7]}`" in summary
    assert "This change introduces **1** finding (1 stop-ship), fixes **1**, and" in summary
    introduced = summary.split("**Introduced**")[1].split("**Fixed**")[0]
    fixed = summary.split("**Fixed**")[1].split("</details>")[0].split("<details>")[0]
    there = summary.split("<details>")[1].split("</details>")[0]
    assert "app/admin.py" in introduced and "app/users.py" not in introduced
    assert "app/users.py" in fixed
    assert "app/legacy.py" in there
    assert {a["path"] for a in final["output"]["annotations"]} == {"app/admin.py"}


async def test_a_renamed_file_brings_no_new_finding(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    base = head(repo)
    git(repo, "checkout", "-qb", "topic")
    git(repo, "mv", "app/users.py", "app/accounts.py")
    (repo / "service").mkdir()
    git(repo, "mv", "app/main.py", "service/main.py")
    (repo / "app" / "accounts.py").write_text(BAD + "\n\ndef count(cursor):\n    return 1\n")
    pr_head = commit(repo, "move and edit")
    await send(client, "pull_request", pull_request_payload(repo, base, pr_head), "pr-1")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    summary = final["output"]["summary"]
    assert "This change introduces **0** findings (0 stop-ship), fixes **0**, and" in summary
    assert final["output"]["annotations"] == []
    # the stop-ship is still open on the renamed file: a release branch stays gated
    assert final["conclusion"] == "failure"
    assert "app/accounts.py" in summary.split("<details>")[1]
