"""The context a commit is judged in, whatever event asked: a head commit of an open pull request
into a release branch is judged as that pull request (a push to its branch, a check suite, a
re-run or a command cannot give it a softer verdict), and a re-run keeps the context of the run it
re-runs (the analysis that published that check run names the delivery it judged).

GitHub names the pull requests of a commit in check suites and check runs, except for forks (an
empty list); for a push it is asked (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import CONFIG_PATH, ConfigError, parse_config
from app.github import snapshot
from app.store.models import Analysis, Delivery

MAX_PULLS = 3  # open pull requests of one commit whose base config is read


@dataclass(frozen=True)
class PullContext:
    """An open pull request a commit is the head of."""

    number: int
    base_ref: str
    base_sha: str


def _pulls_of(items: list[dict[str, Any]], sha: str) -> list[PullContext]:
    out = []
    for pr in items:
        head, base = pr.get("head") or {}, pr.get("base") or {}
        if pr.get("state", "open") != "open" or head.get("sha") != sha:
            continue
        if not isinstance(pr.get("number"), int) or not base.get("sha"):
            continue
        out.append(PullContext(int(pr["number"]), str(base.get("ref") or ""), str(base["sha"])))
    return out


async def pulls_of_commit(
    gh: GitHub[Any], owner: str, name: str, sha: str, listed: list[PullContext] | None = None
) -> list[PullContext]:
    """The open pull requests whose head is `sha`: `listed` (those a check suite names) when
    there are any, else asked of GitHub."""
    if listed:
        return listed
    try:
        response = await gh.rest.repos.async_list_pull_requests_associated_with_commit(
            owner, name, sha, per_page=30
        )
    except RequestFailed as exc:
        if exc.response.status_code in (404, 422):  # a commit GitHub does not know (yet)
            return []
        raise
    return _pulls_of(cast(list[dict[str, Any]], response.json()), sha)


async def gating_pull(
    gh: GitHub[Any], owner: str, name: str, pulls: list[PullContext]
) -> PullContext | None:
    """The first pull request (of at most MAX_PULLS) whose base branch is a release branch by
    the config of its base commit; None when none is."""
    for pull in pulls[:MAX_PULLS]:
        raw = await snapshot.file_at(gh, owner, name, CONFIG_PATH, pull.base_sha)
        try:
            globs = parse_config(raw).release_branches
        except ConfigError:
            return pull  # an invalid config fails the pull request's check: judge it there
        if any(fnmatchcase(pull.base_ref, glob) for glob in globs):
            return pull
    return None


@dataclass(frozen=True)
class Original:
    """The delivery an earlier check run judged: its event and payload."""

    event: str
    payload: dict[str, Any]


async def original_of(
    sessions: async_sessionmaker[AsyncSession], repository_id: int, check_run_id: int
) -> Original | None:
    """The delivery whose analysis published check run `check_run_id`, if it is known here."""
    async with sessions() as session:
        row = await session.execute(
            select(Delivery.event, Delivery.payload)
            .join(Analysis, Analysis.delivery_id == Delivery.id)
            .where(Analysis.repository_id == repository_id, Analysis.check_run_id == check_run_id)
            .order_by(Analysis.id.desc())
            .limit(1)
        )
        found = row.first()
    if found is None:
        return None
    payload = json.loads(found.payload)
    return Original(str(found.event), payload) if isinstance(payload, dict) else None
