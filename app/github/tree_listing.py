"""A recursive tree listing read against the previous listing of the same repository.

A monorepo's listing has tens of thousands of entries, and a push changes a few of them: parsing
every entry again would cost more than the rest of the push. Each entry's JSON text is the same
in two listings when the entry is the same (GitHub writes the same path, mode, type, blob id,
size and URL the same way), so the listing is split into its entries' texts, compared with the
previous listing's as sets, and only the entries that differ are parsed: the tree is the previous
tree without the entries that went and with the ones that came. The split is trusted only when
it is exact: every piece starts with an entry's `"path":` key (a `"` inside a JSON string is
always escaped, so no piece cut from inside a string starts so) and each piece that is parsed is
one complete entry; anything else is parsed in full (tests/github/test_tree_listing.py compares
both ways on the same bytes).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from app.engine.snapshot import MAX_FILE_BYTES

SYMLINK_MODE = "120000"
EXCLUDED = "excluded (vendored, generated or dependency folder)"
TOO_LARGE = "larger than 1 MiB"
SYMLINK = "symbolic link"
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
# DEFAULT_IGNORED are all `**/<folder>/**`: a set look-up of the path's folders decides it
_IGNORED_FOLDERS = frozenset(g.removeprefix("**/").removesuffix("/**") for g in DEFAULT_IGNORED)
_PATH_KEY = b'"path":'
_SEPARATORS = (b"},{", b"}, {")  # GitHub's compact JSON; json.dumps' default
KEPT_PER_REPOSITORY = 2
KEPT = 8


@dataclass(frozen=True)
class RemoteFile:
    path: str
    blob_sha: str
    size: int


@dataclass
class CommitTree:
    """The blobs of one commit: `files` are the ones worth analysing; `blobs` maps every regular
    file to its blob id (the config file and rename detection need it); `truncated` when GitHub
    cut the listing (the tarball is then the only complete source). A tree read against an
    earlier listing names that listing's commit (`base`) and every path whose entry differs
    from it (`changed`: added, removed or changed)."""

    sha: str
    files: dict[str, RemoteFile]
    blobs: dict[str, str]
    skipped: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    base: str | None = None
    changed: frozenset[str] = frozenset()


def count(skipped: dict[str, int], reason: str, by: int = 1) -> None:
    n = skipped.get(reason, 0) + by
    if n:
        skipped[reason] = n
    else:
        del skipped[reason]


def in_ignored_folder(path: str) -> bool:
    """Whether a folder of `path` is one of DEFAULT_IGNORED's (same answer as matching them)."""
    folders = path.split("/")[:-1]
    return not _IGNORED_FOLDERS.isdisjoint(folders)


def skip_reason(path: str, size: int) -> str | None:
    """Why a file is never fetched (dependency and generated folders, over 1 MiB), or None."""
    if in_ignored_folder(path):
        return EXCLUDED
    if size > MAX_FILE_BYTES:
        return TOO_LARGE
    return None


def worth_analysing(path: str, size: int, skipped: dict[str, int]) -> bool:
    """Dependency and generated folders and files over 1 MiB are never fetched."""
    reason = skip_reason(path, size)
    if reason is not None:
        count(skipped, reason)
        return False
    return True


def _apply(tree: CommitTree, entry: dict[str, Any], sign: int) -> str | None:
    """Add (sign 1) or take away (sign -1) one listing entry; returns its path."""
    path, blob_sha = entry.get("path"), entry.get("sha")
    if entry.get("type") != "blob" or not path or not blob_sha:
        return None  # folders, and submodules (type "commit")
    path = str(path)
    if entry.get("mode") == SYMLINK_MODE:
        count(tree.skipped, SYMLINK, sign)
        return path
    size = int(entry.get("size") or 0)
    reason = skip_reason(path, size)
    if sign > 0:
        tree.blobs[path] = str(blob_sha)
        if reason is None:
            tree.files[path] = RemoteFile(path, str(blob_sha), size)
    else:
        tree.blobs.pop(path, None)
        if reason is None:
            tree.files.pop(path, None)
    if reason is not None:
        count(tree.skipped, reason, sign)
    return path


@dataclass
class Listing:
    """One listing: its tree, and its entries' texts for the next listing to be compared with
    (None when the listing was not in a form that can be split exactly)."""

    tree: CommitTree
    entries: frozenset[bytes] | None


def parse(body: bytes, sha: str, previous: Listing | None = None) -> Listing:
    """The tree of one recursive tree response; read against `previous` when it can be."""
    split = _split(body)
    if split is not None and previous is not None and previous.entries is not None:
        entries, truncated = split
        derived = _derived(previous, entries, sha, truncated)
        if derived is not None:
            return Listing(derived, entries)
    data = json.loads(body)
    tree = CommitTree(sha=sha, files={}, blobs={}, truncated=bool(data.get("truncated")))
    for entry in data.get("tree") or []:
        _apply(tree, entry, 1)
    return Listing(tree, None if split is None else split[0])


def _split(body: bytes) -> tuple[frozenset[bytes], bool] | None:
    """The entries' texts (without their braces) and `truncated`, or None when the listing cannot
    be split exactly: every piece must start with the `"path":` key (GitHub and json.dumps write
    it first), which a piece cut from inside a JSON string cannot (its quotes are escaped)."""
    start = body.find(b'"tree":')
    opening = body.find(b"[", start)
    closing = body.rfind(b"]")
    if start < 0 or opening < 0 or closing < opening or body[start + 7 : opening].strip():
        return None
    try:
        header = json.loads(body[: opening + 1] + body[closing:])
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    truncated = bool(header.get("truncated"))
    inner = body[opening + 1 : closing].strip()
    if not inner:
        return frozenset(), truncated
    if inner[:1] != b"{" or inner[-1:] != b"}":
        return None
    separator = next((s for s in _SEPARATORS if s in inner), _SEPARATORS[0])
    pieces = inner[1:-1].split(separator)
    entries = frozenset(pieces)
    if len(entries) != len(pieces) or not all(p.startswith(_PATH_KEY) for p in pieces):
        return None
    return entries, truncated


def _entry(text: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(b"{" + text + b"}")
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and "path" in entry else None


def _derived(
    previous: Listing, entries: frozenset[bytes], sha: str, truncated: bool
) -> CommitTree | None:
    """`previous`'s tree without the entries that went and with those that came."""
    assert previous.entries is not None
    went = [_entry(text) for text in previous.entries - entries]
    came = [_entry(text) for text in entries - previous.entries]
    base = previous.tree
    tree = CommitTree(
        sha=sha,
        files=dict(base.files),
        blobs=dict(base.blobs),
        skipped=dict(base.skipped),
        truncated=truncated,
        base=base.sha,
    )
    changed: set[str] = set()
    for entries_of, sign in ((went, -1), (came, 1)):
        for entry in entries_of:
            if entry is None:
                return None
            path = _apply(tree, entry, sign)
            if path is not None:
                changed.add(path)
    tree.changed = frozenset(changed)
    return tree


class RecentListings:
    """The last listings read, KEPT_PER_REPOSITORY per repository and KEPT in all: the next
    listing of a repository is read against its latest one."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], Listing] = OrderedDict()

    def latest(self, repository: str) -> Listing | None:
        found = [listing for (repo, _), listing in self._items.items() if repo == repository]
        return found[-1] if found else None

    def keep(self, repository: str, listing: Listing) -> None:
        if listing.entries is None or listing.tree.truncated:
            return
        key = (repository, listing.tree.sha)
        self._items[key] = listing
        self._items.move_to_end(key)
        mine = [k for k in self._items if k[0] == repository]
        for old in mine[:-KEPT_PER_REPOSITORY]:
            del self._items[old]
        while len(self._items) > KEPT:
            self._items.popitem(last=False)


recent = RecentListings()
