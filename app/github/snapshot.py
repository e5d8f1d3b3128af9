"""A commit's files through the GitHub API: one recursive tree request for every path and blob
id, then only the blobs whose results are not cached already (a bounded number at a time).
Responses are read as JSON, not as githubkit models: a monorepo's tree has tens of thousands of
entries, and validating each one would cost more than the rest of an incremental push; the tree
is read against the previous listing, parsing only the entries that differ."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.engine.snapshot import looks_binary
from app.github import tree_listing
from app.github.tree_listing import CommitTree, RemoteFile

CONCURRENT_BLOBS = 8
BINARY_FILE = "binary"


async def tree(gh: GitHub[Any], owner: str, repo: str, sha: str) -> CommitTree:
    """Every blob of the commit, from one recursive tree request (read against the previous
    listing of the repository this process read: app/github/tree_listing.py)."""
    response = await gh.rest.git.async_get_tree(owner, repo, sha, recursive="1")
    repository = f"{owner}/{repo}"
    listing = tree_listing.parse(response.content, sha, tree_listing.recent.latest(repository))
    tree_listing.recent.keep(repository, listing)
    return listing.tree


BlobSink = Callable[[RemoteFile, bytes | None], Awaitable[None]]


async def blobs(
    gh: GitHub[Any], owner: str, repo: str, wanted: list[RemoteFile], sink: BlobSink
) -> None:
    """Fetch each wanted blob (CONCURRENT_BLOBS at a time) and hand it to `sink` as soon as it
    arrives (None for a binary file), so at most a few blobs are in memory at once."""
    slots = asyncio.Semaphore(CONCURRENT_BLOBS)

    async def fetch(item: RemoteFile) -> None:
        async with slots:
            data = await blob(gh, owner, repo, item.blob_sha)
            await sink(item, None if looks_binary(data) else data)

    try:
        # the first failure cancels the other fetches: no request outlives the job
        async with asyncio.TaskGroup() as group:
            for item in wanted:
                group.create_task(fetch(item))
    except BaseExceptionGroup as failed:
        raise _first(failed) from None


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


async def blob(gh: GitHub[Any], owner: str, repo: str, blob_sha: str) -> bytes:
    """One blob's bytes (git blobs API)."""
    response = await gh.rest.git.async_get_blob(owner, repo, blob_sha)
    data = cast(dict[str, Any], response.json())
    content = str(data.get("content") or "")
    if data.get("encoding") == "base64":
        return base64.b64decode(content)
    return content.encode()


async def file_at(gh: GitHub[Any], owner: str, repo: str, path: str, ref: str) -> bytes | None:
    """One file's bytes at a ref (the repository config), or None when it does not exist."""
    try:
        response = await gh.rest.repos.async_get_content(owner, repo, path, ref=ref)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return None
        raise
    content = response.parsed_data
    encoded = getattr(content, "content", None)
    if not isinstance(encoded, str):
        return None
    return base64.b64decode(encoded)
