"""Comment commands end to end: GitHub's real `issue_comment.created` example, adapted to a pull
request of a real git repository served by the fake GitHub, signed and sent to the App; what the
fake GitHub received (replies, edits, reactions, permission checks) and the database rows are
asserted. Every request is checked against GitHub's OpenAPI description; SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy
from sqlalchemy import select, update

from app.github import comments
from app.store.models import Delivery, WaiverRow
from tests.app.app_harness import running_app
from tests.app.fake_github import FakeGitHub, start
from tests.app.test_push_analysis import GOOD, INJECTION, push_payload, send
from tests.app.test_webhook import example
from tests.gitrepo import git

PR = 7
WRITER, READER = "maintainer", "visitor"


def shop_with_pull_request(tmp_path: Path) -> Path:
    """A git repository: main is clean; the branch `topic` (pull request #7) adds a SQL injection
    (a stop-ship finding)."""
    root = tmp_path / "shop"
    (root / "app").mkdir(parents=True)
    (root / "app" / "users.py").write_text(GOOD)
    (root / "app" / "main.py").write_text("import structlog\nlog = structlog.get_logger()\n")
    (root / ".gitignore").write_text(".env\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    git(root, "checkout", "-qb", "topic")
    (root / "app" / "admin.py").write_text(INJECTION)
    git(root, "add", ".")
    git(root, "commit", "-qm", "admin")
    git(root, "checkout", "-q", "main")
    return root


@contextmanager
def fake_serving(repo: Path) -> Iterator[FakeGitHub]:
    """The fake GitHub for `repo`: pull request #7, a maintainer and a reader; it must have
    seen no request that GitHub's OpenAPI description would refuse."""
    github = FakeGitHub(repo_dir=repo)
    github.pulls[PR] = ("main", "topic")
    github.permissions.update({WRITER: "maintain", READER: "read"})
    server = start(github)
    yield github
    server.shutdown()
    assert github.problems == [], github.problems


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return shop_with_pull_request(tmp_path)


@pytest.fixture
def fake(repo: Path) -> Iterator[FakeGitHub]:
    with fake_serving(repo) as github:
        yield github


@pytest.fixture
async def client(database_url: str, fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(database_url, fake) as http:
        yield http


def comment_payload(
    fake: FakeGitHub,
    body: str,
    login: str = WRITER,
    *,
    on_pull_request: bool = True,
    user_type: str = "User",
    action: str = "created",
) -> dict[str, Any]:
    """GitHub's example `issue_comment` webhook for a comment just written on pull request #7."""
    comment = fake.add_comment(PR, login, body, user_type)
    payload = copy.deepcopy(example("issue_comment", "created"))
    payload["action"] = action
    payload["comment"].update(id=comment["id"], body=body, html_url=comment["html_url"])
    payload["comment"]["user"].update(login=login, type=user_type)
    payload["issue"]["number"] = PR
    if on_pull_request:
        payload["issue"]["pull_request"] = {
            "url": f"https://api.github.com/repos/octo/shop/pulls/{PR}",
            "html_url": f"https://github.com/octo/shop/pull/{PR}",
            "diff_url": f"https://github.com/octo/shop/pull/{PR}.diff",
            "patch_url": f"https://github.com/octo/shop/pull/{PR}.patch",
        }
    payload["repository"].update(full_name="octo/shop", name="shop")
    payload["installation"] = {"id": 77}
    return payload


async def command(http: httpx.AsyncClient, fake: FakeGitHub, body: str, **kw: Any) -> str:
    """Comment `body` on the pull request; the delivery's final status."""
    delivery = f"c-{uuid.uuid4().hex[:12]}"
    await send(http, "issue_comment", comment_payload(fake, body, **kw), delivery)
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Delivery, delivery)
    assert row is not None
    return row.status


async def waivers(http: httpx.AsyncClient) -> list[WaiverRow]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return list(await session.scalars(select(WaiverRow).order_by(WaiverRow.id)))


def reply(fake: FakeGitHub, marker: str) -> dict[str, Any]:
    [found] = [c for c in fake.replies(PR) if c["body"].startswith(f"<!-- stopship:{marker}")]
    return found


async def stop_ship_id(http: httpx.AsyncClient, fake: FakeGitHub) -> str:
    """The id a user reads in the `/production score` reply."""
    assert await command(http, fake, "/production score") == "done"
    match = re.search(r"`([0-9a-f]{8})` \*\*SEC002", reply(fake, "score")["body"])
    assert match, reply(fake, "score")["body"]
    return match.group(1)


async def push_main(http: httpx.AsyncClient, fake: FakeGitHub, repo: Path) -> dict[str, Any]:
    """Merge the pull request's branch into main, push it; the check run's final update."""
    git(repo, "merge", "-q", "--ff-only", "topic")
    payload = push_payload(git(repo, "rev-parse", "HEAD"))
    await send(http, "push", payload, f"p-{uuid.uuid4().hex[:12]}")
    return fake.calls("PATCH", "/check-runs/")[-1].body  # type: ignore[no-any-return]


async def test_score_replies_once_and_a_repeated_score_edits_that_reply(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    assert await command(client, fake, "Looks good.\n/production score\nthanks") == "done"
    [created] = fake.calls("POST", "/repos/octo/shop/issues/7/comments")
    body = created.body["body"]
    assert body.startswith("<!-- stopship:score -->\n")
    assert "**Score" in body and "NOT READY" in body
    assert "SEC002" in body and "`app/admin.py:2`" in body
    assert "Run `/production check` for the full audit." in body
    assert f"@{WRITER}" in body
    # judged at the head with the base branch's config: the config comes from the base commit's
    # tree (by its blob id), never from the pull request's head
    main = git(Path(str(fake.repo_dir)), "rev-parse", "main")
    assert any(r.path.endswith(f"/git/trees/{main}") for r in fake.calls("GET", "/git/trees/"))
    assert not fake.calls("GET", "/contents/")
    assert any(main in r.path for r in fake.calls("GET", "/compare/"))
    [reaction] = fake.calls("POST", "/reactions")
    assert reaction.body == {"content": "eyes"}

    assert await command(client, fake, "/production score") == "done"
    assert len(fake.calls("POST", "/repos/octo/shop/issues/7/comments")) == 1  # no new comment
    [edit] = fake.calls("PATCH", "/repos/octo/shop/issues/comments/")
    assert edit.path.endswith(f"/{reply(fake, 'score')['id']}")
    assert edit.body["body"].startswith("<!-- stopship:score -->")
    assert len(fake.replies(PR)) == 1


async def test_check_and_report_reply_with_the_full_audit_and_the_stakeholder_report(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    await command(client, fake, "/production check")
    await command(client, fake, "/production REPORT")
    check, report = reply(fake, "check")["body"], reply(fake, "report")["body"]
    assert "## Production readiness — octo/shop" in check
    assert "### Release gate" in check and "### Stop-ship (1)" in check
    assert "- Fix:" in check
    assert "# Production Readiness Report — octo/shop — " in report
    assert "## Action plan" in report and "## Methodology" in report
    assert len(fake.replies(PR)) == 2
    assert all(len(c["body"]) <= 65_536 for c in fake.replies(PR))


async def test_help_and_an_unknown_command_answer_with_the_help_in_one_reply(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    await command(client, fake, "/production help")
    body = reply(fake, "help")["body"]
    assert "`/production waive ID reason [until YYYY-MM-DD]`" in body
    assert fake.calls("GET", "/pulls/") == []  # nothing judged for help
    await command(client, fake, "/production deploy now")
    [only] = fake.replies(PR)
    assert "`deploy` is not a stopship command" in only["body"]
    assert "`/production unwaive ID`" in only["body"]


async def test_comments_that_are_not_commands_for_us_are_ignored_without_a_call(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    statuses = [
        await command(client, fake, "LGTM, but please run /production score later"),
        await command(client, fake, "```\n/production score\n```"),
        await command(client, fake, "/productionize it"),
        await command(client, fake, "/production score", on_pull_request=False),
        await command(client, fake, "/production score", login="stopship[bot]", user_type="Bot"),
        await command(client, fake, "/production score", login="renovate[bot]", user_type="Bot"),
        await command(client, fake, "/production score", action="edited"),
    ]
    assert statuses == ["ignored"] * 7
    assert fake.requests == []


async def test_a_waiver_by_a_writer_is_recorded_and_the_next_release_push_passes(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    finding = await stop_ship_id(client, fake)
    assert await command(client, fake, f"/production waive {finding} false positive") == "done"
    [row] = await waivers(client)
    assert row.fingerprint.startswith(finding) and len(row.fingerprint) == 40
    assert (row.created_by, row.reason, row.until, row.revoked_at) == (
        WRITER,
        "false positive",
        None,
        None,
    )
    assert (row.rule, row.path, row.pull_request) == ("SEC002", "app/admin.py", PR)
    assert row.comment_url and row.comment_url.startswith("https://github.com/octo/shop/pull/7")
    permission = fake.calls("GET", f"/repos/octo/shop/collaborators/{WRITER}/permission")
    assert len(permission) == 1
    confirmation = reply(fake, f"waiver:{finding}")["body"]
    assert f"**Waived** `{finding}`" in confirmation and "false positive" in confirmation
    assert f"@{WRITER}" in confirmation

    final = await push_main(client, fake, repo)
    assert final["conclusion"] == "success"
    assert "Accepted risk (1)" in final["output"]["summary"]
    assert f"false positive (waived by @{WRITER})" in final["output"]["summary"]
    assert not any(a["annotation_level"] == "failure" for a in final["output"]["annotations"])

    await command(client, fake, "/production report")
    report = reply(fake, "report")["body"]
    assert "**Acceptable risk**" in report
    assert f"`{finding}` SEC002 `app/admin.py:2` — justification: false positive" in report


async def test_a_waiver_until_a_date_applies_until_it_expires(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    finding = await stop_ship_id(client, fake)
    until = datetime.now(UTC).date() + timedelta(days=30)
    await command(client, fake, f"/production waive {finding} fix after launch until {until}")
    [row] = await waivers(client)
    assert (row.reason, row.until) == ("fix after launch", until)
    assert f"until {until.isoformat()}" in reply(fake, f"waiver:{finding}")["body"]
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        await session.execute(
            update(WaiverRow).values(until=datetime.now(UTC).date() - timedelta(days=1))
        )  # time passes
        await session.commit()
    assert (await push_main(client, fake, repo))["conclusion"] == "failure"


async def test_unwaive_withdraws_the_waiver(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    finding = await stop_ship_id(client, fake)
    await command(client, fake, f"/production waive {finding} accepted for the beta")
    assert await command(client, fake, f"/production unwaive {finding}") == "done"
    [row] = await waivers(client)
    assert row.revoked_at is not None and row.revoked_by == WRITER
    # both stay in the conversation: who accepted the risk and why, then who withdrew it
    [waived] = [c for c in fake.replies(PR) if f"stopship:waiver:{finding}" in c["body"]]
    assert "**Waived**" in waived["body"] and "accepted for the beta" in waived["body"]
    [withdrawn] = [c for c in fake.replies(PR) if f"stopship:unwaiver:{finding}" in c["body"]]
    assert "**Waiver withdrawn**" in withdrawn["body"]
    assert f"It had been accepted by @{WRITER}: accepted for the beta." in withdrawn["body"]
    assert (await push_main(client, fake, repo))["conclusion"] == "failure"
    await command(client, fake, f"/production unwaive {finding}")
    assert f"no waiver in force has the id `{finding}`" in reply(fake, "refused")["body"]


async def test_a_refusal_to_one_person_leaves_anothers_reply_alone(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    finding = await stop_ship_id(client, fake)
    await command(client, fake, f"/production waive {finding}")  # no reason: refused
    await command(client, fake, f"/production waive {finding} not a risk", login=READER)
    mine = reply(fake, f"refused:{WRITER}")["body"]
    theirs = reply(fake, f"refused:{READER}")["body"]
    assert "a waiver needs a reason" in mine
    assert "need write, maintain or admin permission" in theirs


async def test_a_reader_cannot_waive_and_nothing_changes(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    finding = await stop_ship_id(client, fake)
    judged = len(fake.calls("GET", "/pulls/"))
    for text in (f"/production waive {finding} not a risk", f"/production unwaive {finding}"):
        assert await command(client, fake, text, login=READER) == "done"
        assert "need write, maintain or admin permission" in reply(fake, "refused")["body"]
    # a stranger with no access at all
    await command(client, fake, f"/production waive {finding} not a risk", login="stranger")
    assert await waivers(client) == []
    assert len(fake.calls("GET", "/pulls/")) == judged  # refused before judging anything
    assert len(fake.calls("GET", "/collaborators/")) == 3
    assert (await push_main(client, fake, repo))["conclusion"] == "failure"


REFUSALS = [
    ("{id}", "a waiver needs a reason"),
    ("{id} until 2999-01-01", "a waiver needs a reason"),
    ("{id} known issue until 2020-01-01", "is not in the future"),
    ("{id} known issue until {today}", "is not in the future"),
    ("{id} known issue until 2030-02-30", "not a date, write it as YYYY-MM-DD"),
    ("{id} known issue until next week", "`until` takes a date and comes last"),
    ("{id} known issue until", "`until` takes a date and comes last"),
    ("", "a finding id is missing"),
    ("not-an-id because", "is not a finding id"),
    ("abcdef12 no such finding", "no finding has the id `abcdef12`"),
    # what a user typed is shown back without notifying anyone
    ("@octo/everyone`x because", "`@\u200bocto/everyone'x` is not a finding id"),
]


async def test_a_waiver_that_is_not_well_formed_is_refused_with_the_reason(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    finding = await stop_ship_id(client, fake)
    today = datetime.now(UTC).date().isoformat()
    for arguments, problem in REFUSALS:
        text = "/production waive " + arguments.format(id=finding, today=today)
        assert await command(client, fake, text) == "done"
        assert problem in reply(fake, "refused")["body"], text
    assert await waivers(client) == []


async def test_a_failed_reaction_does_not_stop_the_reply(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    fake.failures["POST /reactions"] = [403]
    assert await command(client, fake, "/production score") == "done"
    assert len(fake.replies(PR)) == 1


async def test_a_reply_is_cut_to_githubs_comment_limit(fake: FakeGitHub) -> None:
    gh = GitHub(TokenAuthStrategy("test-token"), base_url=fake.url + "/")
    await comments.reply(gh, "octo", "shop", PR, "check", "- a finding line\n" * 10_000)
    [body] = [c["body"] for c in fake.replies(PR)]
    assert len(body) <= comments.COMMENT_LIMIT
    assert body.startswith("<!-- stopship:check -->\n")
    assert body.endswith(
        "… cut to fit GitHub's limit; run `stopship check --format markdown` for all of it.\n"
    )
