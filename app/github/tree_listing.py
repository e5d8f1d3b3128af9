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

from app.engine.snapshot import too_large

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
_SEPARATORS = (b"},{", b"}, {")  # GitHub's compact JSON; json.dumps' default
_PATH = b'"path"'
BLOCK = 1 << 16
MAX_REGIONS = 512
MAX_RESYNC = 16
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
    if too_large(path, size):
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
    """One listing: its tree, and the response it was read from (the next listing of the
    repository is compared with it), with where its array of entries lies in it."""

    tree: CommitTree
    body: bytes
    array: tuple[int, int] | None  # start and end of the array's contents; None: not comparable


def parse(body: bytes, sha: str, previous: Listing | None = None) -> Listing:
    """The tree of one recursive tree response; read against `previous` when it can be."""
    array = _array(body)
    if array is not None and previous is not None and previous.array is not None:
        start, end, truncated = array
        derived = _derived(previous, body, (start, end), sha, truncated)
        if derived is not None:
            return Listing(derived, body, (start, end))
    data = json.loads(body)
    tree = CommitTree(sha=sha, files={}, blobs={}, truncated=bool(data.get("truncated")))
    for entry in data.get("tree") or []:
        _apply(tree, entry, 1)
    return Listing(tree, body, None if array is None else array[:2])


def _array(body: bytes) -> tuple[int, int, bool] | None:
    """Where the `tree` array's contents start and end, and `truncated`; None when the listing
    is not one object with a single array holding objects only."""
    key = body.find(b'"tree":')
    opening = body.find(b"[", key)
    closing = body.rfind(b"]")
    if key < 0 or opening < 0 or closing < opening or body[key + 7 : opening].strip():
        return None
    try:
        header = json.loads(body[: opening + 1] + body[closing:])
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    start, end = opening + 1, closing
    while start < end and body[start : start + 1].isspace():
        start += 1
    while end > start and body[end - 1 : end].isspace():
        end -= 1
    if start < end and (body[start : start + 1] != b"{" or body[end - 1 : end] != b"}"):
        return None
    return start, end, bool(header.get("truncated"))


def _common(new: bytes, i: int, old: bytes, j: int, length: int) -> int:
    """How many bytes new[i:] and old[j:] have in common, up to `length` (block by block, then
    halving the block that differs: C comparisons, not a Python loop over bytes)."""
    done, block = 0, BLOCK
    while done < length:
        step = min(block, length - done)
        if new[i + done : i + done + step] == old[j + done : j + done + step]:
            done += step
        elif step == 1:
            return done
        else:
            block = step // 2
    return done


def _regions(
    new: bytes, new_array: tuple[int, int], old: bytes, old_array: tuple[int, int]
) -> list[tuple[int, int, int, int]] | None:
    """The stretches of whole entries in which the two arrays differ, as (new start, new end,
    old start, old end); between them both are the same bytes. Entries are told apart by the
    separator followed by the `"path"` key, which cannot occur inside a JSON string (its quotes
    are escaped). None when there are too many stretches."""
    (i, new_end), (j, old_end) = new_array, old_array
    window = new[i : i + BLOCK]
    separator = next((s for s in _SEPARATORS if s + _PATH in window), _SEPARATORS[0])
    boundary = separator + _PATH
    width = len(separator) - 1  # from a boundary's first byte to the entry's `{`
    out: list[tuple[int, int, int, int]] = []
    while True:
        same = _common(new, i, old, j, min(new_end - i, old_end - j))
        if i + same == new_end and j + same == old_end:
            return out
        if len(out) == MAX_REGIONS:
            return None
        # back to the start of the entry where they differ (the same place in both)
        before = new.rfind(boundary, i, i + same)
        start = i if before < 0 else before + width
        old_start = j + (start - i)
        # forward to an entry of `new` that `old` has too, with the boundary before it in both
        found = None
        at = start
        for _ in range(MAX_RESYNC):
            following = new.find(boundary, at, new_end)
            if following < 0:
                break
            after = new.find(boundary, following + width, new_end)
            entry = new[following : new_end if after < 0 else after + 1]
            match = old.find(entry, max(old_start - width, j), old_end)
            if match >= 0 and (after >= 0 or match + len(entry) == old_end):
                found = (following, match)
                break
            at = following + width
        if found is None:  # the rest of both differs
            out.append((start, new_end, old_start, old_end))
            return out
        following, match = found
        out.append((start, following + 1, old_start, max(match + 1, old_start)))
        i, j = following + width, match + width


def _entries(text: bytes) -> list[dict[str, Any]] | None:
    """The entries of a stretch of whole entries; None when it is not one."""
    if not text:
        return []
    try:
        entries = json.loads(b"[" + text + b"]")
    except ValueError:
        return None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "path" in e for e in entries
    ):
        return None
    return entries


def _derived(
    previous: Listing, body: bytes, array: tuple[int, int], sha: str, truncated: bool
) -> CommitTree | None:
    """`previous`'s tree without the entries of the stretches that differ and with the new
    stretches' entries (an entry that is in both stays as it is)."""
    assert previous.array is not None
    regions = _regions(body, array, previous.body, previous.array)
    if regions is None:
        return None
    went: list[dict[str, Any]] = []
    came: list[dict[str, Any]] = []
    for new_start, new_end, old_start, old_end in regions:
        now, before = _entries(body[new_start:new_end]), _entries(previous.body[old_start:old_end])
        if now is None or before is None:
            return None
        came += now
        went += before
    unchanged = {json.dumps(e, sort_keys=True) for e in went} & {
        json.dumps(e, sort_keys=True) for e in came
    }
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
    for entries, sign in ((went, -1), (came, 1)):
        for entry in entries:
            if json.dumps(entry, sort_keys=True) in unchanged:
                continue
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
        if listing.array is None or listing.tree.truncated:
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
