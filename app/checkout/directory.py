"""Snapshot of a local directory: `.gitignore` respected inside a git work tree, default excludes,
git blob ids, binary and over-size files skipped and counted, symlinks never followed
out of PATH."""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from app.engine.snapshot import Snapshot, SnapshotEntry, git_blob_sha, looks_binary, too_large

DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "env",
        ".env.d",
        "virtualenv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".stopship_cache",
        "vendor",
        "third_party",
        "dist",
        "build",
        "target",
        ".next",
        ".nuxt",
        "out",
        "coverage",
        ".gradle",
        ".idea",
        ".terraform",
        "site-packages",
        "generated",
        "__generated__",
        ".eggs",
    }
)
_GENERATED_SUFFIXES = (
    ".min.js",
    ".min.css",
    ".map",
    "_pb2.py",
    "_pb2_grpc.py",
    ".pb.go",
    ".generated.ts",
    ".gen.go",
)


def _git_listing(root: Path) -> list[str] | None:
    """Tracked and untracked-not-ignored files below `root`, relative to it; None outside git,
    and None when the enclosing repository ignores `root` itself (a vendored or build folder the
    user asked to audit by name is walked on its own rather than found empty)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        inside = subprocess.run(  # noqa: S603 - fixed argv, no shell, no input from the repository
            [git, "rev-parse", "--is-inside-work-tree"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        ignored = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, "check-ignore", "-q", "--", "."],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
        )
        if ignored.returncode == 0:
            return None
        listed = subprocess.run(  # noqa: S603
            [
                git,
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                ".",
                *(f":(exclude,glob)**/{d}/**" for d in sorted(DEFAULT_EXCLUDED_DIRS)),
            ],
            cwd=root,
            capture_output=True,
            timeout=120,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = [n.decode("utf-8", "surrogateescape") for n in listed.stdout.split(b"\0") if n]
    return sorted(set(names))


_EXCLUDED = "excluded (vendored, generated or dependency folder)"


def _walk(root: Path) -> list[tuple[str, FileStamp | str]]:
    """The items (see `Listing`) of every file below `root`, not following symlinked folders,
    outside the default excludes, stat-ed through their directory entries (one system call, no
    path parsing)."""
    items: list[tuple[str, FileStamp | str]] = []
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            with os.scandir(folder) as found:
                entries = list(found)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if entry.is_file(follow_symlinks=False):
                # the common case, inlined: a regular file (known without a system call) that
                # only its name can exclude (excluded folders were not entered)
                rel = f"{prefix}{name}"
                if name.endswith(_GENERATED_SUFFIXES):
                    items.append((rel, _EXCLUDED))
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    items.append((rel, "unreadable"))
                    continue
                size = st.st_size
                if too_large(name, size):
                    items.append((rel, "larger than 1 MiB"))
                else:
                    items.append((rel, (size, st.st_mtime_ns, st.st_ctime_ns)))
            elif entry.is_dir(follow_symlinks=False):
                if name not in DEFAULT_EXCLUDED_DIRS and not name.endswith(".egg-info"):
                    stack.append((f"{prefix}{name}/", entry.path))
            elif entry.is_symlink() and entry.is_dir():
                continue  # a symlinked folder is not followed
            else:
                item = _item(root, f"{prefix}{name}", entry.path, entry, name)
                if item is not None:
                    items.append(item)
    items.sort()  # by path: no two items share one, so the stamps are never compared
    return items


def read_local(root: Path | str, rel: str) -> bytes:
    """Read one snapshot file (used by workers, which re-read rather than receive bytes)."""
    with open(os.path.join(root, rel), "rb") as handle:
        return handle.read()


# What identifies an unchanged file without reading it (as git's index does): size and times.
FileStamp = tuple[int, int, int]
KnownBlobs = dict[str, tuple[FileStamp, str]]


@dataclass
class Listing:
    """The files below a root as `stat` saw them, before any is read: per path in sorted order,
    its stamp, or the reason it is skipped."""

    root: Path
    items: list[tuple[str, FileStamp | str]]

    @cached_property
    def identity(self) -> str:
        """Changes whenever a path, a stamp or a skip reason does: equal identities mean the
        same files with the same contents (as far as the stamps tell, as git's index trusts)."""
        # marshal writes these strings, ints and tuples several times faster than json (it is
        # only hashed here, never loaded); version 2 has no back-references, whose use depends on
        # reference counts, so equal listings always give equal bytes
        return hashlib.sha1(marshal.dumps(self.items, 2), usedforsecurity=False).hexdigest()


def list_files(root: Path) -> Listing:
    """Stat every candidate file below `root` (git's listing inside a work tree, a walk
    outside one); read none."""
    root = root.resolve()
    listing = _git_listing(root)
    if listing is None:
        return Listing(root, _walk(root))
    root_text = os.path.join(str(root), "")
    items: list[tuple[str, FileStamp | str]] = []
    for rel in listing:
        folder, _, name = rel.rpartition("/")
        if _excluded_folder(folder):
            items.append((rel, _EXCLUDED))
            continue
        item = _item(root, rel, root_text + rel, None, name)
        if item is not None:
            items.append(item)
    return Listing(root, items)


def _item(
    root: Path, rel: str, full: str, entry: os.DirEntry[str] | None, name: str
) -> tuple[str, FileStamp | str] | None:
    """A file's stamp, its skip reason, or None for what is not a file (a socket, a fifo)."""
    if name.endswith(_GENERATED_SUFFIXES):
        return rel, _EXCLUDED
    try:
        # one system call for the common case of a regular file
        st = entry.stat(follow_symlinks=False) if entry is not None else os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            target = Path(full).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return rel, "symlink outside path"
            st = os.stat(full)
        elif not stat.S_ISREG(st.st_mode):
            return None
    except OSError:
        return rel, "unreadable"
    if too_large(rel, st.st_size):
        return rel, "larger than 1 MiB"
    return rel, (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@lru_cache(maxsize=4096)
def _excluded_folder(folder: str) -> bool:
    return any(p in DEFAULT_EXCLUDED_DIRS or p.endswith(".egg-info") for p in folder.split("/"))


def directory_snapshot(
    root: Path, known: KnownBlobs | None = None, listing: Listing | None = None
) -> Snapshot:
    """Every analysable file below `root`, with git blob ids computed from the working tree.

    `known` maps paths to the (size, mtime_ns, ctime_ns) stamp and blob id seen last time: a file
    whose stamp is unchanged is not read again. `snapshot.stamps` holds the stamps of this run.
    `listing` is `list_files(root)` when the caller already has it.
    """
    snapshot, reading = snapshot_stream(root, known, listing)
    for _ in reading:
        pass
    return snapshot


def snapshot_stream(
    root: Path, known: KnownBlobs | None = None, listing: Listing | None = None
) -> tuple[Snapshot, Iterator[SnapshotEntry]]:
    """`directory_snapshot`, a file at a time: the snapshot is complete once the iterator, which
    yields each entry as soon as its file is read, is exhausted (so analysis can start sooner)."""
    listing = listing or list_files(root)
    base = listing.root
    snapshot = Snapshot(entries=[], loader=lambda rel: read_local(base, rel))
    return snapshot, _read(listing, known or {}, snapshot)


def _read(listing: Listing, known: KnownBlobs, snapshot: Snapshot) -> Iterator[SnapshotEntry]:
    root_text = str(listing.root)
    for rel, item in listing.items:
        if isinstance(item, str):
            snapshot.skip(item)
            continue
        stamp = item
        previous = known.get(rel)
        if previous is not None and previous[0] == stamp:
            entry = SnapshotEntry(rel, previous[1], stamp[0])
            snapshot.entries.append(entry)
            snapshot.stamps[rel] = (stamp, previous[1])
            yield entry
            continue
        try:
            with open(os.path.join(root_text, rel), "rb") as handle:
                data = handle.read()
        except OSError:
            snapshot.skip("unreadable")
            continue
        if looks_binary(data):
            snapshot.skip("binary")
            continue
        sha = git_blob_sha(data)
        entry = SnapshotEntry(rel, sha, len(data))
        snapshot.entries.append(entry)
        if len(data) == stamp[0]:  # not changed while being read
            snapshot.stamps[rel] = (stamp, sha)
        yield entry
