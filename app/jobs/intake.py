"""From a delivery to the target a commit is judged as (app/jobs/analyse.py judges it).

A commit's check run gives the strictest verdict of the contexts it is in: whatever event asks
(a push, a pull request, a check suite, a re-run), a head commit of an open pull request into a
release branch is judged as that pull request (app/jobs/commit_context.py), with its base's config
and its base's suppressions. A re-run (check_run rerequested) keeps the context of the run it
re-runs: the delivery its analysis judged is judged again, which covers forks (GitHub names no
pull request for them). A check suite of a commit that is neither the head of a pull request nor
the tip of its branch here (a fork's) is not judged as a push.
"""

from __future__ import annotations

from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.gate import Kind
from app.github.comparison import compare
from app.jobs import supersede
from app.jobs.analyse import GitHubFactory, Target, judge
from app.jobs.commit_context import (
    PullContext,
    gating_pull,
    original_of,
    pulls_of_commit,
)
from app.jobs.subject import job_subject


def _pushed_paths(payload: dict[str, Any]) -> frozenset[str] | None:
    """The files a push added or modified, from its commit list; None (annotate every file)
    for a new branch or when the list may be incomplete."""
    before = str(payload.get("before") or "")
    commits = payload.get("commits")
    if not before or set(before) == {"0"} or not isinstance(commits, list):
        return None
    if len(commits) >= 2048:  # GitHub lists at most 2048 commits
        return None
    paths: set[str] = set()
    for commit in commits:
        for key in ("added", "modified"):
            files = commit.get(key) or []
            if len(files) >= 3000:  # and at most 3000 files per commit
                return None
            paths.update(str(f) for f in files)
    return frozenset(paths)


def _installation(github: GitHubFactory, payload: dict[str, Any]) -> GitHub[Any]:
    return github(int(payload["installation"]["id"]))


def _names(payload: dict[str, Any]) -> tuple[str, str]:
    owner, name = str(payload["repository"]["full_name"]).split("/", 1)
    return owner, name


async def _gating_pull_of(
    gh: GitHub[Any], owner: str, name: str, sha: str, listed: list[dict[str, Any]] | None = None
) -> PullContext | None:
    return await gating_pull(gh, owner, name, await pulls_of_commit(gh, owner, name, sha, listed))


async def analyse_push(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    rerun: bool = False,
) -> str:
    """A push is judged by its branch, unless its commit heads a pull request into a release
    branch: then as that pull request."""
    if not supersede.asks_for_verdict("push", payload):
        return "ignored"
    sha = str(payload["after"])
    owner, name = _names(payload)
    pull = await _gating_pull_of(_installation(github, payload), owner, name, sha)
    if pull is not None:
        return await _judge_as_pull(github, sessions, delivery_id, payload, pull, sha, rerun)
    branch = str(payload.get("ref", "")).removeprefix("refs/heads/")
    target = Target(
        owner,
        name,
        sha,
        gate_branch=branch,
        config_ref=sha,
        annotate_paths=_pushed_paths(payload),
        rerun=rerun,
        lineage=job_subject("push", payload).lock or "",
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def analyse_pull_request(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    rerun: bool = False,
) -> str:
    """A pull request is judged by its base branch's rules: config from the base commit, gating by
    the base branch, findings listed for the files it changes (the score covers the tree), and
    compared with the base; when its head is also the head of another open pull request into a
    release branch, as that one (the stricter context)."""
    if not supersede.asks_for_verdict("pull_request", payload):
        return "ignored"
    pr = payload["pull_request"]
    sha = str(pr["head"]["sha"])
    own = PullContext(int(pr["number"]), str(pr["base"]["ref"]), str(pr["base"]["sha"]))
    owner, name = _names(payload)
    gh = _installation(github, payload)
    others = [p for p in await pulls_of_commit(gh, owner, name, sha) if p.number != own.number]
    stricter = await gating_pull(gh, owner, name, others) if others else None
    if stricter is not None and await gating_pull(gh, owner, name, [own]) is None:
        own = stricter
    return await _judge_as_pull(github, sessions, delivery_id, payload, own, sha, rerun)


async def analyse_merge_group(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    rerun: bool = False,
) -> str:
    """A merge queue entry: its head commit is judged against its base, and the result is
    reported on that commit, so the queue neither stalls nor passes without a verdict."""
    if payload.get("action") != "checks_requested":
        return "ignored"
    group = payload["merge_group"]
    return await _judge_change(
        github,
        sessions,
        delivery_id,
        payload,
        base_sha=str(group["base_sha"]),
        head_sha=str(group["head_sha"]),
        gate_branch=str(group["base_ref"]).removeprefix("refs/heads/"),
        event="merge_group",
        lineage=job_subject("merge_group", payload).lock or "",
        rerun=rerun,
    )


async def _judge_as_pull(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    pull: PullContext,
    head_sha: str,
    rerun: bool,
) -> str:
    return await _judge_change(
        github,
        sessions,
        delivery_id,
        payload,
        base_sha=pull.base_sha,
        head_sha=head_sha,
        gate_branch=pull.base_ref,
        event="pull_request",
        lineage=f"{payload['repository']['id']}:pr:{pull.number}",
        rerun=rerun,
    )


async def _judge_change(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    base_sha: str,
    head_sha: str,
    gate_branch: str,
    event: Kind,
    lineage: str,
    rerun: bool = False,
) -> str:
    owner, name = _names(payload)
    comparison = await compare(_installation(github, payload), owner, name, base_sha, head_sha)
    target = Target(
        owner,
        name,
        head_sha,
        kind=event,
        gate_branch=gate_branch,
        config_ref=base_sha,
        changed_paths=comparison.changed,
        base_sha=base_sha,
        renames=comparison.renames,
        rerun=rerun,
        lineage=lineage,
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def analyse_rerequest(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    event: str,
) -> str:
    """check_suite requested/rerequested and check_run rerequested. A re-run of a check run this
    App published judges its delivery again, in the same context; otherwise the suite's head
    commit is judged as the pull request into a release branch it heads (GitHub's list, else
    asked), else as a push to its branch when it is that branch's tip here. A `requested` suite
    of a commit already judged in that context is not judged twice; a re-run always is."""
    action = payload.get("action")
    if event == "check_suite" and action not in {"requested", "rerequested"}:
        return "ignored"
    if event == "check_run" and action != "rerequested":
        return "ignored"
    rerun = action == "rerequested"
    if event == "check_run":
        original = await original_of(
            sessions, int(payload["repository"]["id"]), int(payload["check_run"]["id"])
        )
        if original is not None and original.event in _REJUDGED:
            return await _REJUDGED[original.event](
                github, sessions, delivery_id, original.payload, True
            )
    holder = payload["check_suite"] if event == "check_suite" else payload["check_run"]
    suite = payload["check_suite"] if event == "check_suite" else holder["check_suite"]
    sha = str(suite["head_sha"])
    owner, name = _names(payload)
    gh = _installation(github, payload)
    pull = await _gating_pull_of(gh, owner, name, sha, holder.get("pull_requests") or None)
    if pull is not None:
        return await _judge_as_pull(github, sessions, delivery_id, payload, pull, sha, rerun)
    branch = str(suite.get("head_branch") or "")
    if not branch or not await _is_tip(gh, owner, name, branch, sha):
        return "ignored"  # not this repository's branch (a fork's commit): its PR judges it
    target = Target(
        owner,
        name,
        sha,
        gate_branch=branch,
        config_ref=sha,
        rerun=rerun,
        lineage=job_subject(event, payload).lock or "",
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def _is_tip(gh: GitHub[Any], owner: str, name: str, branch: str, sha: str) -> bool:
    """Whether `branch` of this repository points at `sha`."""
    try:
        response = await gh.rest.repos.async_get_branch(owner, name, branch)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return False
        raise
    data = cast(dict[str, Any], response.json())
    return str((data.get("commit") or {}).get("sha") or "") == sha


_REJUDGED = {
    "push": analyse_push,
    "pull_request": analyse_pull_request,
    "merge_group": analyse_merge_group,
}
