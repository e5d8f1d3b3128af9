"""A commit's files through the GitHub API: one recursive tree request for every path and blob
id, then only the blobs whose results are not cached already (a bounded number at a time).
Responses are read as JSON, not as githubkit models: a monorepo's tree has tens of thousands of
entries, and validating each one would cost more than the rest of an incremental push."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.engine.snapshot import MAX_FILE_BYTES, looks_binary

CONCURRENT_BLOBS = 8
# the same folders the local scan leaves out (dependencies, virtualenvs, generated code)
DEFAULT_IGNORED = (
    "**/node_modules/**",
    "**/.venv/**",
    "**/venv/**",
    "**/vendor/**",
    "**/dist/**",
    "**/build/**",
    "**/__pycache__/**",
    "**/.git/**",
    "**/site-packages/**",
)
EXCLUDED = "excluded (vendored, generated or dependency folder)"
TOO_LARGE = "larger than 1 MiB"
SYMLINK = "symbolic link"
BINARY_FILE = "binary"
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    blob_sha: str
    size: int


@dataclass
class CommitTree:
    """The blobs of one commit: `files` are the ones worth analysing; `blobs` maps every regular
    file to its blob id (the config file and rename detection need it); `truncated` when GitHub
    cut the listing (the tarball is then the only complete source)."""

    sha: str
    files: list[RemoteFile]
    blobs: dict[str, str]
    skipped: dict[str, int] = field(default_factory=dict)
    truncated: bool = False


def count(skipped: dict[str, int], reason: str) -> None:
    skipped[reason] = skipped.get(reason, 0) + 1


# DEFAULT_IGNORED are all `**/<folder>/**`: a set look-up of the path's folders decides it
# (a monorepo's tree has tens of thousands of paths; glob matching each costs more than the rest)
_IGNORED_FOLDERS = frozenset(g.removeprefix("**/").removesuffix("/**") for g in DEFAULT_IGNORED)


def in_ignored_folder(path: str) -> bool:
    """Whether a folder of `path` is one of DEFAULT_IGNORED's (same answer as matching them)."""
    folders = path.split("/")[:-1]
    return not _IGNORED_FOLDERS.isdisjoint(folders)


def worth_analysing(path: str, size: int, skipped: dict[str, int]) -> bool:
    """Dependency and generated folders and files over 1 MiB are never fetched."""
    if in_ignored_folder(path):
        count(skipped, EXCLUDED)
        return False
    if size > MAX_FILE_BYTES:
        count(skipped, TOO_LARGE)
        return False
    return True


async def tree(gh: GitHub[Any], owner: str, repo: str, sha: str) -> CommitTree:
    """Every blob of the commit, from one recursive tree request."""
    response = await gh.rest.git.async_get_tree(owner, repo, sha, recursive="1")
    data = cast(dict[str, Any], response.json())
    out = CommitTree(sha=sha, files=[], blobs={}, truncated=bool(data.get("truncated")))
    for entry in data.get("tree") or []:
        path, blob_sha = entry.get("path"), entry.get("sha")
        if entry.get("type") != "blob" or not path or not blob_sha:
            continue  # folders, and submodules (type "commit")
        if entry.get("mode") == SYMLINK_MODE:
            count(out.skipped, SYMLINK)
            continue
        size = int(entry.get("size") or 0)
        out.blobs[path] = blob_sha
        if worth_analysing(path, size, out.skipped):
            out.files.append(RemoteFile(path, blob_sha, size))
    return out


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
