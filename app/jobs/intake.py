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
from app.github.events import (
    CheckRunEvent,
    CheckSuiteEvent,
    Event,
    MergeGroupEvent,
    PullRef,
    PullRequestEvent,
    PushEvent,
    parse_event,
)
from app.jobs import supersede
from app.jobs.analyse import GitHubFactory, Target, judge
from app.jobs.commit_context import (
    PullContext,
    gating_pull,
    original_of,
    pulls_of_commit,
)
from app.jobs.release_baseline import forget_tags
from app.jobs.subject import job_subject


def _pushed_paths(event: PushEvent) -> frozenset[str] | None:
    """The files a push added or modified, from its commit list; None (annotate every file)
    for a new branch or when the list may be incomplete."""
    if not event.before or set(event.before) == {"0"} or event.commits is None:
        return None
    if len(event.commits) >= 2048:  # GitHub lists at most 2048 commits
        return None
    paths: set[str] = set()
    for commit in event.commits:
        for files in (commit.added, commit.modified):
            if len(files) >= 3000:  # and at most 3000 files per commit
                return None
            paths.update(files)
    return frozenset(paths)


def _repository_client(github: GitHubFactory, event: Event) -> tuple[GitHub[Any], str, str]:
    """A client of the installation the event comes from, and its repository's owner and name
    (what every call about the repository takes)."""
    place = event.place
    owner, name = place.repository.owner_name
    return github(place.installation.id), owner, name


async def _gating_pull_of(
    gh: GitHub[Any], owner: str, name: str, sha: str, listed: list[PullRef] | None = None
) -> PullContext | None:
    named = [
        PullContext(p.number, p.base.ref, p.base.sha) for p in listed or [] if p.head.sha == sha
    ]
    pulls = await pulls_of_commit(gh, owner, name, sha, named)
    return await gating_pull(gh, owner, name, pulls)


async def analyse_push(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
    rerun: bool = False,
) -> str:
    """A push is judged by its branch, unless its commit heads a pull request into a release
    branch: then as that pull request."""
    assert isinstance(event, PushEvent)
    if event.ref.startswith("refs/tags/"):
        forget_tags(sessions, event.place.repository.full_name)  # a new release baseline
    if not supersede.asks_for_verdict(event):
        return "ignored"
    gh, owner, name = _repository_client(github, event)
    sha = event.after
    pull = await _gating_pull_of(gh, owner, name, sha)
    if pull is not None:
        return await _judge_as_pull(github, sessions, delivery_id, event, pull, sha, rerun)
    target = Target(
        owner,
        name,
        sha,
        gate_branch=event.ref.removeprefix("refs/heads/"),
        config_ref=sha,
        annotate_paths=_pushed_paths(event),
        rerun=rerun,
        lineage=job_subject(event).lock or "",
    )
    return await judge(github, sessions, delivery_id, event.place, target)


async def analyse_pull_request(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
    rerun: bool = False,
) -> str:
    """A pull request is judged by its base branch's rules: config from the base commit, gating by
    the base branch, findings listed for the files it changes (the score covers the tree), and
    compared with the base; when its head is also the head of another open pull request into a
    release branch, as that one (the stricter context)."""
    assert isinstance(event, PullRequestEvent)
    if not supersede.asks_for_verdict(event):
        return "ignored"
    pr = event.pull_request
    sha = pr.head.sha
    own = PullContext(pr.number, pr.base.ref, pr.base.sha)
    gh, owner, name = _repository_client(github, event)
    others = [p for p in await pulls_of_commit(gh, owner, name, sha) if p.number != own.number]
    stricter = await gating_pull(gh, owner, name, others) if others else None
    if stricter is not None and await gating_pull(gh, owner, name, [own]) is None:
        own = stricter
    return await _judge_as_pull(github, sessions, delivery_id, event, own, sha, rerun)


async def analyse_merge_group(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
    rerun: bool = False,
) -> str:
    """A merge queue entry: its head commit is judged against its base, and the result is
    reported on that commit, so the queue neither stalls nor passes without a verdict."""
    assert isinstance(event, MergeGroupEvent)
    if event.action != "checks_requested":
        return "ignored"
    group = event.merge_group
    return await _judge_change(
        github,
        sessions,
        delivery_id,
        event,
        base_sha=group.base_sha,
        head_sha=group.head_sha,
        gate_branch=group.base_ref.removeprefix("refs/heads/"),
        kind="merge_group",
        lineage=job_subject(event).lock or "",
        rerun=rerun,
    )


async def _judge_as_pull(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
    pull: PullContext,
    head_sha: str,
    rerun: bool,
) -> str:
    return await _judge_change(
        github,
        sessions,
        delivery_id,
        event,
        base_sha=pull.base_sha,
        head_sha=head_sha,
        gate_branch=pull.base_ref,
        kind="pull_request",
        lineage=f"{event.place.repository.id}:pr:{pull.number}",
        rerun=rerun,
    )


async def _judge_change(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
    base_sha: str,
    head_sha: str,
    gate_branch: str,
    kind: Kind,
    lineage: str,
    rerun: bool = False,
) -> str:
    gh, owner, name = _repository_client(github, event)
    comparison = await compare(gh, owner, name, base_sha, head_sha)
    target = Target(
        owner,
        name,
        head_sha,
        kind=kind,
        gate_branch=gate_branch,
        config_ref=base_sha,
        changed_paths=comparison.changed,
        base_sha=base_sha,
        renames=comparison.renames,
        rerun=rerun,
        lineage=lineage,
    )
    return await judge(github, sessions, delivery_id, event.place, target)


async def analyse_rerequest(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
) -> str:
    """check_suite requested/rerequested and check_run rerequested. A re-run of a check run this
    App published judges its delivery again, in the same context; otherwise the suite's head
    commit is judged as the pull request into a release branch it heads (GitHub's list, else
    asked), else as a push to its branch when it is that branch's tip here. A `requested` suite
    of a commit already judged in that context is not judged twice; a re-run always is."""
    if isinstance(event, CheckSuiteEvent):
        if event.action not in {"requested", "rerequested"}:
            return "ignored"
        suite, listed = event.check_suite, event.check_suite.pull_requests
    elif isinstance(event, CheckRunEvent):
        if event.action != "rerequested":
            return "ignored"
        original = await original_of(sessions, event.place.repository.id, event.check_run.id)
        if original is not None and original.event in _REJUDGED:
            again = parse_event(original.event, original.payload)
            return await _REJUDGED[original.event](github, sessions, delivery_id, again, True)
        suite, listed = event.check_run.check_suite, event.check_run.pull_requests
    else:
        return "ignored"
    rerun = event.action == "rerequested"
    gh, owner, name = _repository_client(github, event)
    sha = suite.head_sha
    pull = await _gating_pull_of(gh, owner, name, sha, listed or suite.pull_requests)
    if pull is not None:
        return await _judge_as_pull(github, sessions, delivery_id, event, pull, sha, rerun)
    branch = suite.head_branch or ""
    if not branch or not await _is_tip(gh, owner, name, branch, sha):
        return "ignored"  # not this repository's branch (a fork's commit): its PR judges it
    target = Target(
        owner,
        name,
        sha,
        gate_branch=branch,
        config_ref=sha,
        rerun=rerun,
        lineage=job_subject(event).lock or "",
    )
    return await judge(github, sessions, delivery_id, event.place, target)


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
