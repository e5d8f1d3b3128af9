"""The files of one commit: `(path, blob id, size)` plus a content loader supplied by the caller."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine.paths import LOCK_FILES

MAX_FILE_BYTES = 1024 * 1024
# Lock files are never analysed, but whether one exists matters (SEC015): a big one is kept.
MAX_LOCK_FILE_BYTES = 64 * 1024 * 1024


def too_large(path: str, size: int) -> bool:
    """Whether a file of `size` bytes at `path` is left out: over 1 MiB (64 MiB for lock files)."""
    if size <= MAX_FILE_BYTES:
        return False
    return size > MAX_LOCK_FILE_BYTES or path.rpartition("/")[2] not in LOCK_FILES


def git_blob_sha(data: bytes) -> str:
    """git's own blob id: sha1(b"blob <len>\\0" + data), so local and remote snapshots agree."""
    h = hashlib.sha1(usedforsecurity=False)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def looks_binary(head: bytes) -> bool:
    """git's heuristic: a NUL byte in the first 8 KiB means binary."""
    return b"\0" in head[:8192]


@dataclass(frozen=True)
class SnapshotEntry:
    path: str
    blob_sha: str
    size: int


@dataclass
class Snapshot:
    entries: list[SnapshotEntry]
    loader: Callable[[str], bytes]
    # Why files were left out, with counts ("binary", "too large", "symlink outside path", ...).
    skipped: dict[str, int] = field(default_factory=dict)
    # Local checkouts only: path -> ((size, mtime_ns, ctime_ns), blob id), to skip re-reading.
    stamps: dict[str, tuple[tuple[int, int, int], str]] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return [e.path for e in self.entries]

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
