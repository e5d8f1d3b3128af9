"""A commit's files through the GitHub API: one recursive tree request for every path and blob
id, then only the blobs whose results are not cached already (a bounded number at a time)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.engine.paths import matches_any
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


@dataclass(frozen=True)
class RemoteFile:
    path: str
    blob_sha: str
    size: int


async def tree(
    gh: GitHub[Any], owner: str, repo: str, sha: str
) -> tuple[list[RemoteFile], dict[str, int]]:
    """Every analysable blob of the commit, and what was left out (by reason)."""
    response = await gh.rest.git.async_get_tree(owner, repo, sha, recursive="1")
    data = response.parsed_data
    skipped: dict[str, int] = {}
    files: list[RemoteFile] = []
    for entry in data.tree:
        if entry.type != "blob" or not entry.path or not entry.sha:
            continue
        size = int(entry.size or 0)
        if matches_any(entry.path, DEFAULT_IGNORED):
            skipped["excluded (vendored, generated or dependency folder)"] = (
                skipped.get("excluded (vendored, generated or dependency folder)", 0) + 1
            )
        elif size > MAX_FILE_BYTES:
            skipped["larger than 1 MiB"] = skipped.get("larger than 1 MiB", 0) + 1
        else:
            files.append(RemoteFile(entry.path, entry.sha, size))
    if data.truncated:
        skipped["tree truncated by GitHub"] = 1
    return files, skipped


async def blobs(
    gh: GitHub[Any],
    owner: str,
    repo: str,
    wanted: list[RemoteFile],
) -> dict[str, bytes | None]:
    """path -> bytes (None for a binary file), fetched CONCURRENT_BLOBS at a time."""
    slots = asyncio.Semaphore(CONCURRENT_BLOBS)
    out: dict[str, bytes | None] = {}

    async def fetch(item: RemoteFile) -> None:
        async with slots:
            response = await gh.rest.git.async_get_blob(owner, repo, item.blob_sha)
        blob = response.parsed_data
        data = (
            base64.b64decode(blob.content) if blob.encoding == "base64" else blob.content.encode()
        )
        out[item.path] = None if looks_binary(data) else data

    await asyncio.gather(*(fetch(item) for item in wanted))
    return out


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
