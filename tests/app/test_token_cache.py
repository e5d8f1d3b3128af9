"""Installation tokens are shared by every process of the App through the database (so N
workers ask GitHub for one token per installation, not N), and are stored encrypted with a key
only the App's own processes hold."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from app.store.models import GitHubToken
from tests.app.app_harness import running_app
from tests.app.fake_github import FakeGitHub, example
from tests.app.test_push_analysis import (
    client,
    fake,
    push,
    push_payload,
    repo,
)
from tests.gitrepo import git

__all__ = ["client", "fake", "repo"]
TOKEN_REQUESTS = "/app/installations/77/access_tokens"


async def test_a_second_process_reuses_the_installation_token_from_the_database(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path, database_url: str
) -> None:
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "t-1")
    assert len(fake.calls("POST", TOKEN_REQUESTS)) == 1
    (repo / "app" / "main.py").write_text("import structlog\nlog = structlog.get_logger('x')\n")
    git(repo, "commit", "-qam", "second")
    # another worker: its own memory, the same database and the same App key
    key = client.app.state.settings.github_private_key  # type: ignore[attr-defined]
    async with running_app(database_url, fake, private_key=key) as other:
        await push(other, push_payload(git(repo, "rev-parse", "HEAD")), "t-2")
    assert len(fake.calls("PATCH", "/check-runs/")) >= 2  # both pushes were judged
    assert len(fake.calls("POST", TOKEN_REQUESTS)) == 1  # ... with one token

    token = example("POST", TOKEN_REQUESTS, "201")["token"]
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        stored = list(await session.scalars(select(GitHubToken)))
    assert stored and all(token not in row.value for row in stored)
    assert all("77" not in row.key for row in stored)  # keys are digests too


async def test_a_process_with_another_key_cannot_read_the_shared_tokens(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path, database_url: str
) -> None:
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "k-1")
    (repo / "app" / "main.py").write_text("import structlog\nlog = structlog.get_logger('y')\n")
    git(repo, "commit", "-qam", "second")
    async with running_app(database_url, fake) as stranger:  # a different private key
        await push(stranger, push_payload(git(repo, "rev-parse", "HEAD")), "k-2")
    assert len(fake.calls("POST", TOKEN_REQUESTS)) == 2  # it asked GitHub for its own
