"""Snapshot of a local directory: `.gitignore` respected inside a git work tree, default excludes,
git blob ids, binary and over-size files skipped and counted, symlinks never followed
out of PATH."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from app.engine.snapshot import MAX_FILE_BYTES, Snapshot, SnapshotEntry, git_blob_sha, looks_binary

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


def _excluded(rel: str) -> bool:
    parts = rel.split("/")
    if any(p in DEFAULT_EXCLUDED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return True
    return parts[-1].endswith(_GENERATED_SUFFIXES)


def _git_listing(root: Path) -> list[str] | None:
    """Tracked and untracked-not-ignored files below `root`, relative to it; None outside git."""
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


def _walk(root: Path) -> list[str]:
    """Every file below `root` (not following symlinked folders), outside the default excludes."""
    out: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in DEFAULT_EXCLUDED_DIRS and not entry.name.endswith(".egg-info"):
                    stack.append((f"{rel}/", entry.path))
            elif entry.is_symlink() and entry.is_dir():
                continue  # a symlinked folder is not followed
            else:
                out.append(rel)
    return sorted(out)


def read_local(root: Path, rel: str) -> bytes:
    """Read one snapshot file (used by workers, which re-read rather than receive bytes)."""
    return (root / rel).read_bytes()


# What identifies an unchanged file without reading it (as git's index does): size and times.
FileStamp = tuple[int, int, int]
KnownBlobs = dict[str, tuple[FileStamp, str]]


def directory_snapshot(root: Path, known: KnownBlobs | None = None) -> Snapshot:
    """Every analysable file below `root`, with git blob ids computed from the working tree.

    `known` maps paths to the (size, mtime_ns, ctime_ns) stamp and blob id seen last time: a file
    whose stamp is unchanged is not read again. `snapshot.stamps` holds the stamps of this run.
    """
    known = known or {}
    root = root.resolve()
    listing = _git_listing(root)
    names = listing if listing is not None else _walk(root)
    snapshot = Snapshot(entries=[], loader=lambda rel: read_local(root, rel))
    root_text = str(root)
    for rel in names:
        if _excluded(rel):
            snapshot.skip("excluded (vendored, generated or dependency folder)")
            continue
        full = os.path.join(root_text, rel)
        try:
            st = os.lstat(full)  # one system call for the common case of a regular file
            if stat.S_ISLNK(st.st_mode):
                target = Path(full).resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    snapshot.skip("symlink outside path")
                    continue
                st = os.stat(full)
            elif not stat.S_ISREG(st.st_mode):
                continue
            size = st.st_size
            if size > MAX_FILE_BYTES:
                snapshot.skip("larger than 1 MiB")
                continue
            stamp = (size, st.st_mtime_ns, st.st_ctime_ns)
            previous = known.get(rel)
            if previous is not None and previous[0] == stamp:
                snapshot.entries.append(SnapshotEntry(rel, previous[1], size))
                snapshot.stamps[rel] = (stamp, previous[1])
                continue
            with open(full, "rb") as handle:
                data = handle.read()
        except OSError:
            snapshot.skip("unreadable")
            continue
        if looks_binary(data):
            snapshot.skip("binary")
            continue
        sha = git_blob_sha(data)
        snapshot.entries.append(SnapshotEntry(rel, sha, len(data)))
        if len(data) == size:  # not changed while being read
            snapshot.stamps[rel] = (stamp, sha)
    return snapshot
