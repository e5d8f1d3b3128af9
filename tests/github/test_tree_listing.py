"""A tree listing read against the previous one gives the tree a full parse gives, in GitHub's
compact JSON and in json.dumps' spaced form, through random edits, additions, removals,
symbolic links, submodules, skipped folders and large files; paths that would make the split
inexact (a separator or a `"path":` key inside a name) are parsed in full."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from app.github.tree_listing import (
    EXCLUDED,
    SYMLINK,
    TOO_LARGE,
    CommitTree,
    Listing,
    RecentListings,
    parse,
    skip_reason,
)


def body(entries: list[dict[str, Any]], sha: str, compact: bool, truncated: bool = False) -> bytes:
    data = {"sha": sha, "url": f"https://api.github.com/trees/{sha}", "tree": entries}
    data["truncated"] = truncated
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(data, separators=separators).encode()


def entry(path: str, rng: random.Random) -> dict[str, Any]:
    sha = f"{rng.getrandbits(160):040x}"
    kind = rng.choices(["blob", "tree", "commit", "link"], [20, 3, 1, 1])[0]
    if kind == "tree":
        return {"path": path, "mode": "040000", "type": "tree", "sha": sha, "url": "u/" + sha}
    if kind == "commit":
        return {"path": path, "mode": "160000", "type": "commit", "sha": sha}
    size = rng.choice([10, 4000, 2_000_000])
    mode = "120000" if kind == "link" else "100644"
    return {"path": path, "mode": mode, "type": "blob", "sha": sha, "size": size, "url": "u/" + sha}


def same(got: CommitTree, want: CommitTree) -> None:
    assert got.files == want.files
    assert got.blobs == want.blobs
    assert got.skipped == want.skipped
    assert got.truncated == want.truncated


NAMES = ["app/main.py", "node_modules/x/i.js", "docs/ü ber.md", 'q"uote.py', "back\\slash.go"]
# names with a separator or a key inside: a stretch may then not read as entries (parsed in full)
ODD = ["odd},{name.py", "odd}, {name.py", 'has"path":inside.py', 'a},{"path":"b.py']


@pytest.mark.parametrize("odd", [False, True])
@pytest.mark.parametrize("compact", [True, False])
def test_a_listing_read_against_the_previous_equals_a_full_parse(compact: bool, odd: bool) -> None:
    rng = random.Random(compact)
    names = NAMES + (ODD if odd else []) + [f"src/m{i}.py" for i in range(200)]
    entries = {p: entry(p, rng) for p in names}
    previous: Listing | None = None
    derived = 0
    for step in range(60):
        before = dict(entries)
        for _ in range(rng.randint(1, 6)):
            path = rng.choice(sorted(entries))
            action = rng.choice(["edit", "add", "remove"])
            if action == "edit":
                entries[path] = entry(path, rng)
            elif action == "add":
                new = f"new{step}/{rng.randint(0, 99)}.py"
                entries[new] = entry(new, rng)
            elif len(entries) > 10:
                del entries[path]
        raw = body([entries[p] for p in sorted(entries)], f"{step:040x}", compact)
        listing = parse(raw, f"{step:040x}", previous)
        same(listing.tree, parse(raw, f"{step:040x}").tree)
        if previous is not None and listing.tree.base is not None:
            assert listing.tree.base == previous.tree.sha
            derived += 1
            differ = {p for p in entries.keys() | before.keys() if entries.get(p) != before.get(p)}
            sides = [(p, entries.get(p)) for p in differ] + [(p, before.get(p)) for p in differ]
            blobs = {p for p, e in sides if e is not None and e["type"] == "blob"}
            assert listing.tree.changed == blobs
        previous = listing
    assert derived == 59
    assert odd or {SYMLINK, TOO_LARGE, EXCLUDED} <= set(listing.tree.skipped)


@pytest.mark.parametrize(
    "name", ["odd},{name.py", "odd}, {name.py", 'has"path":inside.py', "end}.py"]
)
def test_names_that_could_break_the_split_still_give_the_right_tree(name: str) -> None:
    rng = random.Random(name)
    entries = [entry(f"a{i}.py", rng) for i in range(5)]
    first = body(entries, "1" * 40, compact=True)
    entries.append({"path": name, "mode": "100644", "type": "blob", "sha": "f" * 40, "size": 3})
    second = body(entries, "2" * 40, compact=True)
    listing = parse(second, "2" * 40, parse(first, "1" * 40))
    same(listing.tree, parse(second, "2" * 40).tree)
    assert listing.tree.blobs[name] == "f" * 40


def test_an_empty_and_a_truncated_listing() -> None:
    empty = parse(body([], "1" * 40, compact=True), "1" * 40)
    assert empty.tree.blobs == {} and empty.array is not None
    rng = random.Random(3)
    raw = body([entry(f"a{i}.py", rng) for i in range(3)], "2" * 40, True, truncated=True)
    assert parse(raw, "2" * 40, empty).tree.truncated


@pytest.mark.parametrize("compact", [True, False])
def test_first_last_and_many_scattered_changes(compact: bool) -> None:
    rng = random.Random(5)
    paths = [f"d{i // 50}/f{i}.py" for i in range(2000)]
    entries = {p: entry(p, rng) for p in paths}
    previous = parse(body([entries[p] for p in paths], "0" * 40, compact), "0" * 40)
    for step, changed in enumerate([[paths[0]], [paths[-1]], paths[::3], [], paths[:2]], 1):
        for path in changed:
            entries[path] = entry(path, rng)
        entries.pop(paths[1], None) if step == 5 else None
        listed = [entries[p] for p in ["0.py", *paths] if p in entries]
        if step == 5:
            listed.insert(0, entry("0.py", rng))
        raw = body(listed, f"{step:040x}", compact)
        listing = parse(raw, f"{step:040x}", previous)
        same(listing.tree, parse(raw, f"{step:040x}").tree)
        previous = listing


def test_the_latest_listings_are_kept_per_repository() -> None:
    recent = RecentListings()
    rng = random.Random(4)
    listings = [
        parse(body([entry(f"a{i}.py", rng)], f"{i:040x}", True), f"{i:040x}") for i in range(4)
    ]
    for listing in listings:
        recent.keep("octo/a", listing)
    recent.keep("octo/b", listings[0])
    assert recent.latest("octo/a") is listings[3]
    assert recent.latest("octo/b") is listings[0]
    assert recent.latest("octo/c") is None


def test_a_big_lock_file_is_fetched_other_big_files_are_not() -> None:
    assert skip_reason("web/package-lock.json", 3_000_000) is None
    assert skip_reason("web/bundle.js", 3_000_000) == TOO_LARGE
    assert skip_reason("web/package-lock.json", 100_000_000) == TOO_LARGE
