"""A commit's files from one tarball: for a first scan (thousands of blobs missing) and for trees
GitHub truncates.

`GET /repos/{owner}/{repo}/tarball/{ref}` answers `302` to a short-lived archive URL (codeload);
the client follows it (without the token: httpx drops `Authorization` on a redirect to another
host) and streams the gzip into a spooled temporary file, refusing more than MAX_ARCHIVE_BYTES.
Members are then read in memory, one at a time, from the stream: nothing from the archive is
ever written to a path, links and special files are skipped, names that are not plain relative
paths are skipped, a member over 1 MiB is never read, and the archive may not unpack to more
than MAX_UNPACKED_BYTES in all.

Call `download` inside `async with gh:` (one connection pool for the job): a streamed response
outlives the request only while its client is open.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from collections.abc import Callable
from typing import IO, Any

from githubkit import GitHub

from app.engine.snapshot import too_large
from app.github.tree_listing import SYMLINK, TOO_LARGE, count

MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
MAX_UNPACKED_BYTES = 4 * 1024 * 1024 * 1024
SPOOL_IN_MEMORY = 16 * 1024 * 1024
UNSAFE_NAME = "name that is not a plain relative path"


class TarballTooLarge(Exception):
    """The archive is larger than stopship accepts (compressed or unpacked)."""


# Bytes unpacked between two members the reader sees (a member's data, then the next header and
# its PAX / GNU long-name extensions, which tarfile reads whole into memory): GitHub refuses
# files over 100 MB, so more is a header built to exhaust memory.
MAX_BETWEEN_MEMBERS = 256 * 1024 * 1024


class _Bounded(io.RawIOBase):
    """The unpacked stream, counted: more than `limit` bytes in all, or more than `between`
    since the last member was seen (`mark`), is TarballTooLarge."""

    def __init__(self, stream: Any, limit: int, between: int) -> None:
        self.stream, self.limit, self.between = stream, limit, between
        self.done = self.since = 0

    def readable(self) -> bool:
        return True

    def mark(self) -> None:
        self.since = 0

    def read(self, size: int = -1) -> bytes:
        room = min(self.limit - self.done, self.between - self.since) + 1
        data: bytes = self.stream.read(room if size < 0 else min(size, room))
        self.done += len(data)
        self.since += len(data)
        if self.done > self.limit or self.since > self.between:
            raise TarballTooLarge(
                f"the tarball unpacks to more than {self.limit} bytes"
                if self.done > self.limit
                else f"a tar header or member of more than {self.between} bytes"
            )
        return data


async def download(
    gh: GitHub[Any], owner: str, repo: str, ref: str, limit: int = MAX_ARCHIVE_BYTES
) -> IO[bytes]:
    """The gzipped tarball of `ref`, in a spooled temporary file positioned at its start."""
    response = await gh.arequest("GET", f"/repos/{owner}/{repo}/tarball/{ref}", stream=True)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TarballTooLarge(f"the tarball of {ref} is {int(declared)} bytes")
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > limit:
                raise TarballTooLarge(f"the tarball of {ref} is over {limit} bytes")
            spool.write(chunk)
    except BaseException:
        spool.close()
        await response.raw_response.aclose()
        raise
    spool.seek(0)
    return spool


def repository_path(name: str, top: str | None = None) -> str | None:
    """The path inside the repository of an archive member (`owner-repo-sha/dir/file` ->
    `dir/file`); None for the top folder, for a member outside `top` (when given) and for any
    name that is not a plain relative path."""
    parts = name.rstrip("/").split("/")
    if len(parts) < 2 or any(p in {"", ".", ".."} for p in parts):
        return None
    if top is not None and parts[0] != top:
        return None
    return "/".join(parts[1:])


FileSink = Callable[[str, bytes], None]
Wanted = Callable[[str, int], bool]


def read_members(
    archive: IO[bytes],
    wanted: Wanted,
    sink: FileSink,
    skipped: dict[str, int],
    unpacked_limit: int = MAX_UNPACKED_BYTES,
    between_members: int = MAX_BETWEEN_MEMBERS,
) -> None:
    """Hand `sink(path, bytes)` every regular file of the archive that `wanted(path, size)`
    accepts, in archive order (blocking: run it in a thread). Links, over-large files and
    unsafe names are counted in `skipped` (by reason), never read."""
    top: str | None = None  # GitHub's archives hold one folder, `owner-repo-sha/`
    # every unpacked byte counts, headers and their extensions too (a PAX header or a GNU long
    # name of gigabytes is read whole by tarfile before a member is seen): refused before read
    with gzip.GzipFile(fileobj=archive, mode="rb") as unzipped:
        bounded = _Bounded(unzipped, unpacked_limit, between_members)
        with tarfile.open(fileobj=bounded, mode="r|") as tar:
            for member in tar:
                bounded.mark()
                top = _member(tar, member, top, wanted, sink, skipped)


def _member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    top: str | None,
    wanted: Wanted,
    sink: FileSink,
    skipped: dict[str, int],
) -> str | None:
    """Hand one member to `sink` when it is a wanted plain file; the archive's top folder."""
    if top is None and member.name and not member.name.startswith("/"):
        top = member.name.split("/", 1)[0]
    if member.isdir() or member.type == tarfile.XGLTYPE:
        return top
    path = repository_path(member.name, top)
    if path is None:
        count(skipped, UNSAFE_NAME)
        return top
    if member.issym() or member.islnk():
        count(skipped, SYMLINK)
        return top
    if not member.isfile():
        return top  # devices, fifos: nothing a repository should hold
    if too_large(path, member.size):
        count(skipped, TOO_LARGE)
        return top
    if not wanted(path, member.size):
        return top
    handle = tar.extractfile(member)
    if handle is not None:
        sink(path, handle.read(member.size))
    return top
