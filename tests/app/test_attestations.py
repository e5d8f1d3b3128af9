"""`/production confirm` and `unconfirm` end to end, through the fake GitHub: who may confirm,
what is stored, and what an attestation changes: the release-gate checklist and the deployment
gate (an expired or withdrawn one no longer counts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, update

from app.store.models import AttestationRow
from tests.app.fake_github import FakeGitHub
from tests.app.test_commands import (  # noqa: F401 - the fixtures of the command tests
    PR,
    READER,
    WRITER,
    client,
    command,
    fake,
    reply,
    repo,
)
from tests.app.test_deployment_gate import deploy, reviews
from tests.app.test_push_analysis import push_payload, send
from tests.gitrepo import git


async def attestations(http: httpx.AsyncClient) -> list[AttestationRow]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return list(await session.scalars(select(AttestationRow).order_by(AttestationRow.id)))


def public_launch(repo: Path) -> str:
    """main declares a public launch (backups and rollback required); its new head sha."""
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("launch: {stage: public}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "public launch")
    return git(repo, "rev-parse", "HEAD")


def record(fake: FakeGitHub, marker: str) -> str:
    [found] = [c["body"] for c in fake.replies(PR) if f"<!-- stopship:{marker}" in c["body"]]
    return found  # type: ignore[no-any-return]


async def test_a_reader_cannot_confirm_and_nothing_is_stored(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    for text in ("/production confirm backups restored yesterday", "/production unconfirm backups"):
        assert await command(client, fake, text, login=READER) == "done"
        assert (
            "need write, maintain or admin permission" in reply(fake, f"refused:{READER}")["body"]
        )
    assert await attestations(client) == []
    assert len(fake.calls("GET", f"/collaborators/{READER}/permission")) == 2
    assert fake.calls("GET", "/pulls/") == []  # refused before anything else


async def test_a_writers_confirmation_is_stored_and_replied_as_a_record(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    until = datetime.now(UTC).date() + timedelta(days=90)
    text = f"/production confirm backup restored the nightly dump on staging until {until}"
    assert await command(client, fake, text) == "done"
    [row] = await attestations(client)
    assert (row.item, row.evidence, row.created_by, row.until, row.revoked_at) == (
        "backups",
        "restored the nightly dump on staging",
        WRITER,
        until,
        None,
    )
    assert row.pull_request == PR and row.comment_url
    assert row.comment_url.startswith("https://github.com/octo/shop/pull/7")
    body = record(fake, "attestation:backups:")
    assert "**Confirmed** `backups` — backups with a tested restore" in body
    assert "restored the nightly dump on staging" in body and f"@{WRITER}" in body
    # a new confirmation replaces the one in force; both replies stay as written
    await command(client, fake, "/production confirm backups restore drill 2 passed")
    old, new = await attestations(client)
    assert (old.revoked_by, new.revoked_at, new.evidence) == (
        WRITER,
        None,
        "restore drill 2 passed",
    )
    assert len([c for c in fake.replies(PR) if "stopship:attestation:backups:" in c["body"]]) == 2


async def test_an_unknown_item_is_answered_with_the_list_of_items(
    client: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    await command(client, fake, "/production confirm pentest done by a vendor")
    body = reply(fake, f"refused:{WRITER}")["body"]
    assert "`pentest` is not an attestation; the items are:" in body
    for item in ("`backups`", "`rollback`", "`on-call`", "`load-test`", "`incident-response`"):
        assert item in body
    assert await attestations(client) == []


async def test_attestations_decide_the_deployment_and_expired_ones_no_longer_count(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = public_launch(repo)
    assert await deploy(client, sha) == "done"
    rejected = reviews(fake)[-1]
    assert rejected["state"] == "rejected"
    assert "2 required attestations unconfirmed (backups, rollback)" in rejected["comment"]
    assert "`/production confirm backups <evidence>`" in rejected["comment"]

    await command(client, fake, "/production confirm backups restored on staging, 2 h RTO")
    await command(client, fake, "/production confirm rollback rehearsed v1 to v0 with migrations")
    await deploy(client, sha)
    assert reviews(fake)[-1]["state"] == "approved"
    await command(client, fake, "/production check")  # the checklist ticks both
    checklist = reply(fake, "check")["body"].split("### Release gate", 1)[1]
    assert "- [x] Are backups taken, and was a restore from them tested? — confirmed by " in (
        checklist
    )
    assert f"@\u200b{WRITER}" in checklist  # shown, without notifying anyone

    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        await session.execute(
            update(AttestationRow)
            .where(AttestationRow.item == "backups")
            .values(until=datetime.now(UTC).date() - timedelta(days=1))
        )  # time passes
        await session.commit()
    await deploy(client, sha)
    expired = reviews(fake)[-1]
    assert expired["state"] == "rejected"
    assert "1 required attestation unconfirmed (backups)" in expired["comment"]


async def test_unconfirm_withdraws_the_attestation_with_a_record(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = public_launch(repo)
    await command(client, fake, "/production confirm backups restored on staging")
    await command(client, fake, "/production confirm rollback rehearsed")
    assert await command(client, fake, "/production unconfirm restore") == "done"
    backups, rollback = await attestations(client)
    assert (backups.revoked_by, rollback.revoked_at) == (WRITER, None)
    withdrawn = record(fake, "unattestation:backups:")
    assert "**Attestation withdrawn** for `backups`" in withdrawn
    assert f"It had been confirmed by @{WRITER}: restored on staging." in withdrawn
    assert "**Confirmed** `backups`" in record(fake, "attestation:backups:")  # kept as written
    await deploy(client, sha)
    assert "1 required attestation unconfirmed (backups)" in reviews(fake)[-1]["comment"]
    await command(client, fake, "/production unconfirm backups")
    assert "no attestation of `backups` is in force" in reply(fake, f"refused:{WRITER}")["body"]


async def test_an_unconfirmed_attestation_is_an_unmet_item_but_fails_no_check_run(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    sha = public_launch(repo)
    await send(client, "push", push_payload(sha), f"p-{uuid.uuid4().hex[:12]}")
    final = fake.calls("PATCH", "/check-runs/")[-1].body
    assert final["conclusion"] == "success"
    summary = final["output"]["summary"]
    assert "2 required attestations unconfirmed (backups, rollback): a deployment waits" in summary
    assert "- [ ] Are backups taken, and was a restore from them tested? — unconfirmed" in summary
