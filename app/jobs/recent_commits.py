"""What this process keeps of the commits it judged last, so that the next push is judged from
what it changed: each commit's per-file results (CommitFiles) and report state (ReportState,
app/engine/report_cache.py) under each config. Both are functions of content (the commit's
tree, the ruleset, the config), so an entry is never stale; they are kept per database, like
the result memo (app/jobs/file_results.py), because a commit's files are made on the promise
that their results are in that database's cache.

Bounded (least recently used first out): a 20,000-file repository's entry shares most of its
objects with the entry it was made from, but each holds its own maps of every path.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import StopshipConfig
from app.engine.release import NO_BASELINE, ReleaseBaseline
from app.engine.report_cache import ReportState
from app.engine.ruleset import Ruleset
from app.github.releases import Release

if TYPE_CHECKING:
    from app.jobs.commit_files import CommitFiles

FILES_KEPT = 6
REPORTS_KEPT = 4
K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def drop(self, unwanted: Callable[[K], bool]) -> None:
        for key in [k for k in self._items if unwanted(k)]:
            del self._items[key]

    def put(self, key: K, item: V) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


FilesKey = tuple[str, str, tuple[str, ...], str]  # repository, sha, ignored paths, ruleset
ReportKey = tuple[str, str, str, str]  # repository, sha, config digest, ruleset


TAGS_KEPT = 64
RELEASES_KEPT = 1024
TAGS_FOR_SECONDS = 300.0  # a tag pushed meanwhile is seen at the latest then (or at once here)


class RecentCommits:
    def __init__(self) -> None:
        self.files: _Recent[FilesKey, CommitFiles] = _Recent(FILES_KEPT)
        self.reports: _Recent[ReportKey, ReportState] = _Recent(REPORTS_KEPT)
        # per repository: when its tags were listed, and the tags by commit
        self.tags: _Recent[str, tuple[float, dict[str, list[str]]]] = _Recent(TAGS_KEPT)
        # per (repository, release globs): the release tag of each commit judged
        self.releases: _Recent[tuple[str, tuple[str, ...]], dict[str, Release]] = _Recent(
            RELEASES_KEPT // 16
        )


_recent: WeakKeyDictionary[async_sessionmaker[AsyncSession], RecentCommits] = WeakKeyDictionary()


def recent_of(sessions: async_sessionmaker[AsyncSession]) -> RecentCommits:
    found = _recent.get(sessions)
    if found is None:
        found = _recent[sessions] = RecentCommits()
    return found


def files_key(repository: str, sha: str, config: StopshipConfig, rules: Ruleset) -> FilesKey:
    """A commit's files depend on the config only through the paths it ignores."""
    return (repository, sha, config.ignore_paths, rules.digest)


def config_digest(config: StopshipConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


def report_state(
    sessions: async_sessionmaker[AsyncSession],
    repository: str,
    files: CommitFiles,
    config: StopshipConfig,
    rules: Ruleset,
    release: ReleaseBaseline = NO_BASELINE,
) -> ReportState:
    """The report state of `files` under `config` and `release`: kept, or made from the state
    of the commit the files were made from (only the changed files redone, and the migrations
    whose place relative to the baseline moved), or built."""
    recent = recent_of(sessions)
    digest = config_digest(config)
    key = (repository, files.sha, digest, rules.digest)
    state = recent.reports.get(key)
    if state is not None:
        if state.release != release:  # the same commit judged against another baseline
            state = state.updated(state.results, (), release)
            recent.reports.put(key, state)
        return state
    base = (
        None
        if files.base is None
        else recent.reports.get((repository, files.base, digest, rules.digest))
    )
    if base is not None:
        state = base.updated(files.results, files.changed, release)
    else:
        state = ReportState.build(rules, config, files.results, release)
    recent.reports.put(key, state)
    return state
