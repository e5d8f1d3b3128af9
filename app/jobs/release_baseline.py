"""The release baseline of a judged commit, as the App finds it (the CLI finds the same with git:
app/checkout/git.py): the config's `baseline:`, else for a deployment the environment's last
successful deployment, else the latest release tag reachable from the commit. What changed since
it comes from the compare API; when its list is cut at 300 files, from the two trees' blob ids.
A pull request's own files always count as changed."""

from __future__ import annotations

import time

from githubkit.exception import RequestFailed
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import CONFIG_PATH, ConfigError, StopshipConfig
from app.engine.release import NO_BASELINE, ReleaseBaseline
from app.github import releases
from app.github.comparison import compare
from app.github.releases import Release
from app.github.tree_listing import CommitTree
from app.jobs.commit_files import CommitReader
from app.jobs.recent_commits import RELEASES_KEPT, TAGS_FOR_SECONDS, recent_of


async def release_of(
    reader: CommitReader,
    head: CommitTree,
    config: StopshipConfig,
    environment: str | None = None,
    own_changes: set[str] | None = None,
) -> ReleaseBaseline:
    """The baseline of `head` (raises ConfigError when the config names a ref GitHub does not
    know); `own_changes`: a pull request's files, judged whatever the baseline."""
    gh, owner, name = reader.gh, reader.owner, reader.name
    if config.baseline is not None:
        ref, source, base = config.baseline, f"{CONFIG_PATH}: baseline", config.baseline
    elif environment:
        deployed = await releases.last_successful_deployment(gh, owner, name, environment)
        if deployed is None:
            return NO_BASELINE
        number, base = deployed
        ref, source = f"deployment {number} to {environment} ({base[:7]})", "deployment"
    else:
        found = await _release_tag(reader, head.sha, config.release_tags)
        if found is None:
            return NO_BASELINE
        ref, base = found
        source = "tag"
    try:
        comparison = await compare(gh, owner, name, base, head.sha)
    except RequestFailed as exc:
        if exc.response.status_code in (404, 422) and config.baseline is not None:
            raise ConfigError(f"{source}: {base!r} is not a commit in {owner}/{name}") from None
        raise
    changed = comparison.changed
    if changed is None:  # more files than the compare API lists: compare the trees
        before = await reader.tree(comparison.base_sha or base)
        if before.truncated or head.truncated:
            return ReleaseBaseline(ref, source, None)
        changed = {p for p, blob in head.blobs.items() if before.blobs.get(p) != blob}
    return ReleaseBaseline(ref, source, frozenset(changed)).with_changes(own_changes or ())


async def _release_tag(reader: CommitReader, sha: str, globs: tuple[str, ...]) -> Release:
    """The release tag of `sha`, with the tags listed at most every TAGS_FOR_SECONDS per
    repository in this process, and the walk stopped at a commit judged before."""
    gh, owner, name = reader.gh, reader.owner, reader.name
    recent = recent_of(reader.sessions)
    listed = recent.tags.get(reader.repository)
    if listed is None or time.monotonic() - listed[0] > TAGS_FOR_SECONDS:
        listed = (time.monotonic(), await releases.tags_by_commit(gh, owner, name))
        recent.tags.put(reader.repository, listed)
    known = recent.releases.get((reader.repository, globs))
    if known is None:
        known = {}
        recent.releases.put((reader.repository, globs), known)
    found = await releases.latest_release_tag(gh, owner, name, sha, globs, listed[1], known)
    known[sha] = found
    while len(known) > RELEASES_KEPT:
        del known[next(iter(known))]
    return found


def forget_tags(sessions: async_sessionmaker[AsyncSession], repository: str) -> None:
    """A tag was pushed: list the repository's tags again next time (in this process)."""
    recent = recent_of(sessions)
    recent.tags.pop(repository)
    recent.releases.drop(lambda key: key[0] == repository)
