"""The files changed between two commits, from GitHub's compare API (`base...head`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from githubkit import GitHub

MAX_COMPARE_FILES = 300  # the compare API lists at most 300 files


@dataclass(frozen=True)
class Comparison:
    changed: set[str] | None  # None: more files than the compare API lists
    renames: tuple[tuple[str, str], ...]  # (old path, new path)
    base_sha: str = ""  # the commit `base` names (a ref is resolved by GitHub)


async def compare(gh: GitHub[Any], owner: str, name: str, base: str, head: str) -> Comparison:
    """The files changed between two commits (or refs) and the renames git detected."""
    response = await gh.rest.repos.async_compare_commits(owner, name, f"{base}...{head}")
    data = cast(dict[str, Any], response.json())
    files: list[dict[str, Any]] = data.get("files") or []
    renames = tuple(
        (str(f["previous_filename"]), str(f["filename"]))
        for f in files
        if f.get("status") == "renamed" and f.get("previous_filename")
    )
    changed = None if len(files) >= MAX_COMPARE_FILES else {str(f["filename"]) for f in files}
    base_sha = str((data.get("base_commit") or {}).get("sha") or "")
    return Comparison(changed, renames, base_sha)


async def changed_paths(
    gh: GitHub[Any], owner: str, name: str, base_sha: str, head_sha: str
) -> set[str] | None:
    """The files changed between two commits; None (judge every file) when the compare API's
    list is cut at its limit."""
    return (await compare(gh, owner, name, base_sha, head_sha)).changed
