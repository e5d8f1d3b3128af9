"""The file that stands for the whole repository, where a tool that needs a file for every
finding (GitHub code scanning) shows the repository-level ones: the README, else a manifest."""

from __future__ import annotations

from collections.abc import Iterable

# by preference, matched case-insensitively at the top of the audited folder
_ANCHORS = (
    "readme.md",
    "readme.rst",
    "readme.txt",
    "readme",
    "pyproject.toml",
    "package.json",
    "go.mod",
    "pom.xml",
    "build.gradle.kts",
    "build.gradle",
    "setup.py",
    "requirements.txt",
    "dockerfile",
)


def repo_anchor(paths: Iterable[str]) -> str | None:
    """The path (as listed) of the README or manifest at the top of `paths`, else the first
    top-level file, else the first file; None when there is no file."""
    listed = sorted(paths)
    top = [p for p in listed if "/" not in p]
    by_name = {p.lower(): p for p in top}
    for name in _ANCHORS:
        if name in by_name:
            return by_name[name]
    if top:
        return top[0]
    return listed[0] if listed else None
