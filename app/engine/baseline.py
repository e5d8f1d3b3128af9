"""A change against its base: which findings it introduces, fixes, silences, and which were there
before. Pure: it is handed both commits' blob ids and reports.

Fingerprints include the path, so a file that moves would look like one finding fixed and one
introduced. Before comparing, the base's results are carried along the renames (as git reports
them, plus any file whose exact blob left one path and appeared at another), so the base report
is computed as if its files already had their new names: a finding that only moved keeps its
identity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TypeVar

from app.engine.report import FindingsDiff, Report

T = TypeVar("T")


def renames(
    base_blobs: Mapping[str, str], head_blobs: Mapping[str, str], reported: Mapping[str, str]
) -> dict[str, str]:
    """old path -> new path. `reported` are the renames git detected (they may include edits);
    to them are added files whose blob id left a path of the base for exactly one new path."""
    out = {
        old: new
        for old, new in reported.items()
        if old in base_blobs and old not in head_blobs and new in head_blobs
    }
    targets = set(out.values())
    gone: dict[str, list[str]] = defaultdict(list)
    for path, blob in base_blobs.items():
        if path not in head_blobs and path not in out:
            gone[blob].append(path)
    arrived: dict[str, list[str]] = defaultdict(list)
    for path, blob in head_blobs.items():
        if path not in base_blobs and path not in targets:
            arrived[blob].append(path)
    for blob, olds in gone.items():
        news = arrived.get(blob, [])
        if len(olds) == 1 and len(news) == 1:
            out[olds[0]] = news[0]
    return out


def carried(items: Mapping[str, T], moved: Mapping[str, str]) -> dict[str, T]:
    """`items` (by path) under the paths their files have after the renames."""
    return {moved.get(path, path): value for path, value in items.items()}


def compare(head: Report, base: Report, base_sha: str) -> FindingsDiff:
    """Findings of `head` against `base` (both limited to the same files; `base` computed on the
    carried paths)."""
    before = {f.fingerprint: f for f in base.findings}
    now = {f.fingerprint for f in head.findings}
    silenced_ids = {f.fingerprint for f in head.suppressed} & before.keys()
    return FindingsDiff(
        base_sha=base_sha,
        introduced=[f for f in head.findings if f.fingerprint not in before],
        fixed=[f for fp, f in before.items() if fp not in now and fp not in silenced_ids],
        existing=[f for f in head.findings if f.fingerprint in before],
        silenced=[f for f in head.suppressed if f.fingerprint in silenced_ids],
    )
