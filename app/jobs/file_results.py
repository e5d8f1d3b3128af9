"""Per-file results in the database, keyed so that a file analysed anywhere (any branch, pull
request or repository) is never fetched or analysed again: `blob id:path kind:analysis digest`.

The analysis digest covers the engine version and, for the rules and fact specs that apply to the
path kind, everything that decides what they find (matcher, languages, path filters, role
switches, rule version) but not what is applied afterwards from the current ruleset (message,
severity, points). So a rule change re-analyses only the files that rule looks at, and lazily:
when a commit holding them is next judged. The repository config never enters the key: it is
applied after analysis (disables, severities, ignored paths), so every repository shares it.

A process-wide memo (bounded, least recently used first out) sits in front of the table: the
keys are content addresses, so an entry can never be stale, and a worker that judged a
repository before reads none of its 20,000 results from the database again.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import __version__
from app.engine.analyze import Analyzer
from app.engine.model import FileResult as EngineResult
from app.engine.ruleset import Ruleset
from app.engine.serialize import result_from_dict, result_to_dict
from app.store.models import ConfigBlob, FileResult

ANALYSIS_FIELDS = {
    "id",
    "version",
    "languages",
    "paths",
    "in_tests",
    "in_cli",
    "in_documentation",
    "in_migrations",
    "only_migrations",
    "matcher",
}
MEMO_ENTRIES = 100_000
CHUNK = 500
# what a binary blob is cached as: it is never fetched again, and never analysed
BINARY = EngineResult()
_BINARY_JSON = '{"binary":true}'


class ResultKeys:
    """Cache keys for one ruleset (the path kind's digest is computed once per kind)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._digests: dict[str, str] = {}

    def key(self, path: str, blob_sha: str) -> str:
        kind, rules, facts = self.analyzer.plan(path)
        digest = self._digests.get(kind)
        if digest is None:
            parts: list[Any] = [__version__]
            parts += [r.model_dump(mode="json", include=ANALYSIS_FIELDS) for r in rules]
            parts += [f.model_dump(mode="json") for f in facts]
            text = json.dumps(parts, sort_keys=True)
            digest = self._digests[kind] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return f"{blob_sha}:{kind}:{digest}"


@lru_cache(maxsize=4)
def keys_for(rules: Ruleset) -> ResultKeys:
    """One analyzer and key maker per ruleset per process (their per-path plans are reused by
    every job, which matters when a tree has 20,000 paths)."""
    return ResultKeys(Analyzer(rules))


class _Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, EngineResult] = OrderedDict()

    def get(self, key: str) -> EngineResult | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, result: EngineResult) -> None:
        self._items[key] = result
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


_memos: WeakKeyDictionary[async_sessionmaker[AsyncSession], _Memo] = WeakKeyDictionary()


def memo_of(sessions: async_sessionmaker[AsyncSession]) -> _Memo:
    """The memo in front of one database (a process that talks to another database, as tests
    do, starts from an empty memo)."""
    memo = _memos.get(sessions)
    if memo is None:
        memo = _memos[sessions] = _Memo(MEMO_ENTRIES)
    return memo


async def lookup(
    sessions: async_sessionmaker[AsyncSession], keys: Iterable[str]
) -> dict[str, EngineResult]:
    """The cached results among `keys` (memo first, then the database)."""
    memo = memo_of(sessions)
    out: dict[str, EngineResult] = {}
    unknown: list[str] = []
    for key in keys:
        found = memo.get(key)
        if found is None:
            unknown.append(key)
        else:
            out[key] = found
    if not unknown:
        return out
    async with sessions() as session:
        for start in range(0, len(unknown), CHUNK):
            rows = await session.execute(
                select(FileResult.key, FileResult.result).where(
                    FileResult.key.in_(unknown[start : start + CHUNK])
                )
            )
            for key, text in rows:
                result = BINARY if text == _BINARY_JSON else result_from_dict(json.loads(text))
                memo.put(key, result)
                out[key] = result
    return out


def _insert_ignoring_duplicates(session: AsyncSession, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


async def save(
    sessions: async_sessionmaker[AsyncSession], results: dict[str, EngineResult]
) -> None:
    """Store fresh results (a key another job stored meanwhile is left as it is: same key, same
    result)."""
    if not results:
        return
    rows = [
        {
            "key": key,
            "result": _BINARY_JSON
            if result is BINARY
            else json.dumps(result_to_dict(result), separators=(",", ":")),
        }
        for key, result in results.items()
    ]
    async with sessions() as session:
        statement = _insert_ignoring_duplicates(session, FileResult.__table__)  # type: ignore[arg-type]
        for start in range(0, len(rows), CHUNK):
            await session.execute(statement, rows[start : start + CHUNK])
        await session.commit()
    memo = memo_of(sessions)
    for key, result in results.items():
        memo.put(key, result)


async def config_blob(sessions: async_sessionmaker[AsyncSession], blob_sha: str) -> bytes | None:
    async with sessions() as session:
        row = await session.get(ConfigBlob, blob_sha)
        return None if row is None else bytes(row.content)


async def save_config_blob(
    sessions: async_sessionmaker[AsyncSession], blob_sha: str, content: bytes
) -> None:
    async with sessions() as session:
        statement = _insert_ignoring_duplicates(session, ConfigBlob.__table__)  # type: ignore[arg-type]
        await session.execute(statement, [{"blob_sha": blob_sha, "content": content}])
        await session.commit()
