"""One commit's per-file results for the fewest API requests.

One recursive tree request names every blob. Files in dependency folders, over 1 MiB, or ignored
by the repository config are never fetched. The others are looked up in the result cache by
(blob id, path kind, analysis digest); only the missing ones are fetched: through the blobs API
(CONCURRENT_BLOBS at a time) when there are at most TARBALL_THRESHOLD of them, otherwise (a first
scan) from one tarball. A blob the tarball does not hold as it is in git (export-ignore,
export-subst, LFS content) is fetched through the blobs API. A truncated tree (very large
repositories) is replaced by the tarball: blob ids are computed from its members, which are read
twice from the spooled archive (ids, then the contents of the missing ones).

The config (`.github/stopship.yml`) is read through its blob id from the tree, so an unchanged
config costs no request; the contents API is used only when the tree is truncated.

A commit whose tree was read against the previous listing of the repository (`tree.base`, see
app/github/tree_listing.py) gets its files from that commit's, when this process made them
(app/jobs/recent_commits.py): only the paths whose tree entry changed are looked up, fetched and
analysed; every other result is the base's, as it must be (same blob, same key).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import IO, Any

from githubkit import GitHub
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.budget import over_budget
from app.engine.config import CONFIG_PATH, StopshipConfig
from app.engine.model import FileResult as EngineResult
from app.engine.paths import matches_any
from app.engine.ruleset import Ruleset
from app.engine.snapshot import git_blob_sha, looks_binary
from app.github import snapshot, tarball
from app.github.snapshot import BINARY_FILE
from app.github.tree_listing import CommitTree, RemoteFile, worth_analysing
from app.jobs import file_results
from app.jobs.analysis_pool import processes_for
from app.jobs.file_results import BINARY, keys_for
from app.jobs.recent_commits import files_key, recent_of

TARBALL_THRESHOLD = 200
IGNORED_BY_CONFIG = f"ignored by {CONFIG_PATH}"


class Superseded(Exception):
    """A newer commit arrived for the same subject; `sha` is that commit."""

    def __init__(self, sha: str) -> None:
        super().__init__(f"superseded by {sha}")
        self.sha = sha


SupersedeCheck = Callable[[], Awaitable[None]]  # raises Superseded


async def never_superseded() -> None:
    return None


@dataclass
class CommitFiles:
    """One commit's per-file results (read-only once made: later commits' files are made from
    it). `base` and `changed`: the commit these were made from and every path whose result may
    differ from its (None: made from the tree alone)."""

    sha: str
    blobs: dict[str, str]  # every regular file -> blob id
    results: dict[str, EngineResult]  # every analysable text file -> its result
    skipped: dict[str, int] = field(default_factory=dict)
    analysed: int = 0  # files analysed by this job (the others came from the cache)
    fresh: dict[str, str] = field(default_factory=dict)  # path -> cache key, analysed now
    tarball: bool = False
    ignored: frozenset[str] = frozenset()  # files the config ignores
    binary: frozenset[str] = frozenset()  # files whose blob is binary
    problems: tuple[str, ...] = ()  # sorted paths whose result has parse problems
    base: str | None = None
    changed: frozenset[str] = frozenset()

    def count_skipped(self) -> None:
        if self.ignored:
            self.skipped[IGNORED_BY_CONFIG] = len(self.ignored)
        if self.binary:
            self.skipped[BINARY_FILE] = len(self.binary)

    def for_another_job(self) -> CommitFiles:
        """The same files, as a job that analysed none of them sees them."""
        return replace(self, analysed=0, fresh={}, tarball=False)


class CommitReader:
    """Reads commits of one repository for one job."""

    def __init__(
        self,
        gh: GitHub[Any],
        owner: str,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        rules: Ruleset,
        check: SupersedeCheck = never_superseded,
    ) -> None:
        self.gh, self.owner, self.name, self.sessions = gh, owner, name, sessions
        self.repository = f"{owner}/{name}"
        self.rules = rules
        self.keys = keys_for(rules)
        self.check = check
        self._analysis = asyncio.Lock()
        self._fetched: dict[str, bytes] = {}  # blob id -> bytes this job already fetched
        self.blob_requests = 0  # blobs API requests made (config included)

    async def tree(self, sha: str) -> CommitTree:
        return await snapshot.tree(self.gh, self.owner, self.name, sha)

    async def config(self, tree: CommitTree | None, ref: str) -> bytes | None:
        """The config file's bytes at `ref` (None: there is none), from the config cache when
        the tree names a blob seen before."""
        if tree is None or tree.truncated:
            return await snapshot.file_at(self.gh, self.owner, self.name, CONFIG_PATH, ref)
        blob_sha = tree.blobs.get(CONFIG_PATH)
        if blob_sha is None:
            return None
        cached = await file_results.config_blob(self.sessions, blob_sha)
        if cached is not None:
            return cached
        data = self._fetched[blob_sha] = await snapshot.blob(
            self.gh, self.owner, self.name, blob_sha
        )
        self.blob_requests += 1
        await file_results.save_config_blob(self.sessions, blob_sha, data)
        return data

    async def files(self, tree: CommitTree, config: StopshipConfig) -> CommitFiles:
        """Every analysable file's result: cached, or fetched and analysed (and cached). When
        this process made the files of the commit the tree was read against (`tree.base`), only
        the paths whose entry changed are looked at; the others keep that commit's results."""
        recent = recent_of(self.sessions).files
        key = files_key(self.repository, tree.sha, config, self.rules)
        known = recent.get(key)
        if known is not None:
            return known.for_another_job()
        base = None
        if tree.base is not None:
            base = recent.get(files_key(self.repository, tree.base, config, self.rules))
        if tree.truncated:
            out = await self._from_tarball_only(tree.sha, config)
        elif base is not None:
            out = await self._files_after(base, tree, config)
        else:
            out = await self._all_files(tree, config)
        recent.put(key, out)
        return out

    async def _all_files(self, tree: CommitTree, config: StopshipConfig) -> CommitFiles:
        out = CommitFiles(tree.sha, dict(tree.blobs), {}, dict(tree.skipped))
        wanted: list[RemoteFile] = []
        ignored: set[str] = set()
        for f in tree.files.values():
            if self._kept(f.path, config):
                wanted.append(f)
            else:
                ignored.add(f.path)
        binary = await self._results_of(tree.sha, wanted, out)
        out.ignored, out.binary = frozenset(ignored), frozenset(binary)
        out.problems = tuple(sorted(p for p, r in out.results.items() if r.problems))
        out.count_skipped()
        return out

    async def _files_after(
        self, base: CommitFiles, tree: CommitTree, config: StopshipConfig
    ) -> CommitFiles:
        """`base`'s files with the changed paths looked at again."""
        out = CommitFiles(
            tree.sha,
            tree.blobs,
            dict(base.results),
            dict(tree.skipped),
            base=base.sha,
            changed=tree.changed,
        )
        ignored, binary = set(base.ignored), set(base.binary)
        problems = set(base.problems)
        wanted: list[RemoteFile] = []
        for path in tree.changed:
            out.results.pop(path, None)
            ignored.discard(path)
            binary.discard(path)
            problems.discard(path)
            f = tree.files.get(path)
            if f is None:  # gone, or never worth analysing (counted in the tree's skipped)
                continue
            if self._kept(path, config):
                wanted.append(f)
            else:
                ignored.add(path)
        binary |= await self._results_of(tree.sha, wanted, out)
        problems |= {p for p in tree.changed if p in out.results and out.results[p].problems}
        out.ignored, out.binary = frozenset(ignored), frozenset(binary)
        out.problems = tuple(sorted(problems))
        out.count_skipped()
        return out

    async def _results_of(self, sha: str, wanted: list[RemoteFile], out: CommitFiles) -> set[str]:
        """Put the results of `wanted` in `out` (cached, or fetched and analysed, and cached);
        returns the paths whose blob is binary."""
        keys = {f.path: self.keys.key(f.path, f.blob_sha) for f in wanted}
        cached = await file_results.lookup(self.sessions, set(keys.values()))
        missing = [f for f in wanted if keys[f.path] not in cached]
        fresh: dict[str, EngineResult] = {}
        if missing:
            await self.check()
            if len(missing) > TARBALL_THRESHOLD:
                fresh = await self._via_tarball(sha, missing, out)
            else:
                fresh = await self._via_blobs(missing)
            await file_results.save(self.sessions, _cacheable(keys, fresh))
        binary: set[str] = set()
        for f in wanted:
            result = fresh.get(f.path) or cached.get(keys[f.path])
            if result is BINARY:
                binary.add(f.path)
            elif result is not None:
                out.results[f.path] = result
        out.fresh = {p: keys[p] for p, r in fresh.items() if r is not BINARY}
        out.analysed = len(out.fresh)
        return binary

    def _kept(self, path: str, config: StopshipConfig) -> bool:
        return not (config.ignore_paths and matches_any(path, config.ignore_paths))

    def _analyse_now(self, path: str, data: bytes) -> EngineResult:
        """In a child process, within the per-file budget (a worker thread waits for it)."""
        return BINARY if looks_binary(data) else processes_for(self.rules).analyze(path, data)

    async def _analyse(self, path: str, data: bytes) -> EngineResult:
        # one file at a time per job, off the event loop and its GIL (app/jobs/analysis_pool.py)
        async with self._analysis:
            return await asyncio.to_thread(self._analyse_now, path, data)

    async def _via_blobs(self, missing: list[RemoteFile]) -> dict[str, EngineResult]:
        fresh: dict[str, EngineResult] = {}

        async def sink(item: RemoteFile, data: bytes | None) -> None:
            fresh[item.path] = BINARY if data is None else await self._analyse(item.path, data)

        for item in missing:
            known = self._fetched.get(item.blob_sha)  # the config file, read a moment ago
            if known is not None:
                await sink(item, None if looks_binary(known) else known)
        needed = [f for f in missing if f.blob_sha not in self._fetched]
        await snapshot.blobs(self.gh, self.owner, self.name, needed, sink)
        self.blob_requests += len(needed)
        return fresh

    async def _via_tarball(
        self, sha: str, missing: list[RemoteFile], out: CommitFiles
    ) -> dict[str, EngineResult]:
        by_path = {f.path: f for f in missing}
        fresh: dict[str, EngineResult] = {}

        def sink(path: str, data: bytes) -> None:
            if git_blob_sha(data) == by_path[path].blob_sha:
                fresh[path] = self._analyse_now(path, data)

        archive = await tarball.download(self.gh, self.owner, self.name, sha)
        out.tarball = True
        try:
            async with self._analysis:
                await asyncio.to_thread(
                    tarball.read_members, archive, lambda p, _s: p in by_path, sink, {}
                )
        finally:
            archive.close()
        leftover = [f for f in missing if f.path not in fresh]
        if leftover:
            fresh.update(await self._via_blobs(leftover))
        return fresh

    async def _from_tarball_only(self, sha: str, config: StopshipConfig) -> CommitFiles:
        out = CommitFiles(sha, {}, {})
        ignored: set[str] = set()
        await self.check()
        archive = await tarball.download(self.gh, self.owner, self.name, sha)
        out.tarball = True
        try:
            listed: dict[str, str] = {}

            def wanted(path: str, size: int) -> bool:
                if not worth_analysing(path, size, out.skipped):
                    return False
                if not self._kept(path, config):
                    ignored.add(path)
                    return False
                return True

            def note(path: str, data: bytes) -> None:
                listed[path] = git_blob_sha(data)

            async with self._analysis:
                await asyncio.to_thread(tarball.read_members, archive, wanted, note, out.skipped)
            out.blobs = dict(listed)
            keys = {path: self.keys.key(path, blob) for path, blob in listed.items()}
            cached = await file_results.lookup(self.sessions, set(keys.values()))
            missing = {p for p, k in keys.items() if k not in cached}
            fresh: dict[str, EngineResult] = {}
            if missing:
                await self.check()
                archive.seek(0)
                async with self._analysis:
                    await asyncio.to_thread(_read_again, archive, missing, fresh, self._analyse_now)
                await file_results.save(self.sessions, _cacheable(keys, fresh))
        finally:
            archive.close()
        binary: set[str] = set()
        for path, key in keys.items():
            result = fresh.get(path) or cached.get(key)
            if result is BINARY:
                binary.add(path)
            elif result is not None:
                out.results[path] = result
        out.fresh = {p: keys[p] for p, r in fresh.items() if r is not BINARY}
        out.analysed = len(out.fresh)
        out.ignored, out.binary = frozenset(ignored), frozenset(binary)
        out.problems = tuple(sorted(p for p, r in out.results.items() if r.problems))
        out.count_skipped()
        return out


def _cacheable(keys: dict[str, str], fresh: dict[str, EngineResult]) -> dict[str, EngineResult]:
    """The fresh results by cache key, but those of files over their budget (a busy machine may
    be the cause: the next job tries again)."""
    return {keys[p]: r for p, r in fresh.items() if not over_budget(r)}


def _read_again(
    archive: IO[bytes],
    missing: set[str],
    fresh: dict[str, EngineResult],
    analyse: Callable[[str, bytes], EngineResult],
) -> None:
    def sink(path: str, data: bytes) -> None:
        fresh[path] = analyse(path, data)

    tarball.read_members(archive, lambda p, _s: p in missing, sink, {})
