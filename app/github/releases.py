"""What a commit's next deployment builds on, asked of GitHub: the release tag (tags listed, then
the commits walked back from the judged commit in the order GitHub lists them, which is
`git log`'s, as the CLI walks them) or an environment's last successful deployment. Every list
is read a bounded number of pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from githubkit import GitHub

from app.engine.release import MAX_WALK, release_tag

PER_PAGE = 100
MAX_TAG_PAGES = 10  # the first 1,000 tags; a repository with more names its release globs
MAX_DEPLOYMENTS = 10  # deployments to an environment looked at for a successful one


async def _pages(fetch: Any, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Up to `limit` pages of a list endpoint (stops at the first short page)."""
    out: list[dict[str, Any]] = []
    for page in range(1, limit + 1):
        response = await fetch(per_page=PER_PAGE, page=page, **params)
        items = cast(list[dict[str, Any]], response.json())
        out += items
        if len(items) < PER_PAGE:
            break
    return out


Release = tuple[str, str] | None  # (tag, commit sha) of a release, or none found


async def tags_by_commit(gh: GitHub[Any], owner: str, name: str) -> dict[str, list[str]]:
    """The repository's tags (its first MAX_TAG_PAGES pages), by the commit each names."""
    tags = await _pages(
        lambda **kw: gh.rest.repos.async_list_tags(owner, name, **kw), MAX_TAG_PAGES
    )
    by_commit: dict[str, list[str]] = {}
    for tag in tags:
        commit = str((tag.get("commit") or {}).get("sha") or "")
        if commit:
            by_commit.setdefault(commit, []).append(str(tag.get("name") or ""))
    return by_commit


async def latest_release_tag(
    gh: GitHub[Any],
    owner: str,
    name: str,
    sha: str,
    globs: Iterable[str],
    tags: Mapping[str, list[str]],
    known: Mapping[str, Release] | None = None,
) -> Release:
    """(tag, commit sha) of the release `sha` builds on (engine.release.release_tag's rule; the
    judged commit's own tags are the release being made, not its baseline), or None. `known`:
    the releases of commits judged before; the walk stops at the first of them it meets (an
    untagged one: its release is this one's)."""
    globs = tuple(globs)
    by_commit = {c: names for c, names in tags.items() if c != sha}
    if not by_commit:
        return None
    walked: list[str] = []
    pages = -(-(MAX_WALK + 1) // PER_PAGE)
    for page in range(1, pages + 1):
        response = await gh.rest.repos.async_list_commits(
            owner, name, sha=sha, per_page=PER_PAGE, page=page
        )
        commits = [str(c.get("sha") or "") for c in cast(list[dict[str, Any]], response.json())]
        for i, commit in enumerate(commits):
            if commit != sha and known is not None and commit in known:
                found = release_tag(by_commit, walked + commits[: i + 1], globs)
                return found if found is not None else known[commit]
        walked += commits
        found = release_tag(by_commit, walked, globs)
        if found is not None or len(commits) < PER_PAGE:
            return found
    return None


async def last_successful_deployment(
    gh: GitHub[Any], owner: str, name: str, environment: str
) -> tuple[int, str] | None:
    """(deployment id, commit sha) of the newest deployment to `environment` whose latest status
    is `success`, among its last MAX_DEPLOYMENTS deployments; None when there is none."""
    response = await gh.rest.repos.async_list_deployments(
        owner, name, environment=environment, per_page=MAX_DEPLOYMENTS
    )
    for deployment in cast(list[dict[str, Any]], response.json())[:MAX_DEPLOYMENTS]:
        statuses = await gh.rest.repos.async_list_deployment_statuses(
            owner, name, int(deployment["id"]), per_page=1
        )
        latest = cast(list[dict[str, Any]], statuses.json())
        if latest and latest[0].get("state") == "success":
            return int(deployment["id"]), str(deployment["sha"])
    return None
