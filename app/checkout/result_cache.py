"""The CLI's on-disk cache: per-file results keyed by (blob id, path kind, ruleset digest); per
checkout root, the files as last seen (stamps and blob ids); whole reports keyed by everything
they depend on; the rule files' parsed YAML by their digest.

Stored as JSON in a SQLite file (stdlib), never pickled: a cache directory could arrive inside a
scanned repository, and loading it must not run code.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.engine.model import FileResult
from app.engine.serialize import result_from_dict, result_to_json

# Whole reports are large (every finding) and only the latest few are useful again.
KEPT_REPORTS = 4
KEPT_PARSED_RULES = 4

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trees (root TEXT PRIMARY KEY, listing TEXT NOT NULL,"
    " snapshot TEXT NOT NULL, files INTEGER NOT NULL, skipped TEXT NOT NULL, blobs TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS parsed_rules (digest TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

FileStamp = tuple[int, int, int]
KnownBlobs = dict[str, tuple[FileStamp, str]]


@dataclass(frozen=True)
class TreeRecord:
    """A checkout as last audited: `listing` is the identity of its file listing (paths and
    stamps), `snapshot` the identity of its contents (paths and blob ids), `files` how many were
    analysable, `skipped` why the others were not; `blobs` (JSON) the stamp and blob id per path."""

    listing: str
    snapshot: str
    files: int
    skipped: dict[str, int]
    blobs: str

    def known_blobs(self) -> KnownBlobs:
        try:
            rows = json.loads(self.blobs)
            return {path: ((size, mtime, ctime), sha) for path, size, mtime, ctime, sha in rows}
        except (ValueError, TypeError):
            return {}  # a damaged record: every file is read again


class ResultCache:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by stopship\n*\n")
        self._db = sqlite3.connect(directory / "results.sqlite3", timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        # a first run asks for thousands of keys that cannot be there: it need not ask at all
        self._no_results = self._db.execute("SELECT 1 FROM results LIMIT 1").fetchone() is None

    @staticmethod
    def key(blob_sha: str, path_kind: str, digest: str) -> str:
        return f"{blob_sha}:{path_kind}:{digest}"

    def get_many(self, keys: list[str]) -> dict[str, FileResult]:
        out: dict[str, FileResult] = {}
        if self._no_results:
            return out
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                "SELECT key, value FROM results WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps(chunk),),
            ).fetchall()
            for key, value in rows:
                try:
                    out[key] = result_from_dict(json.loads(value))
                except (ValueError, TypeError):
                    continue  # a damaged entry is a miss, and is overwritten
        return out

    def put_many(self, items: dict[str, FileResult]) -> None:
        self.put_encoded({k: result_to_json(v) for k, v in items.items()})

    def put_encoded(self, items: dict[str, str]) -> None:
        """Store results already encoded by `result_to_json` (pool workers encode their own)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)", items.items()
            )

    def tree(self, root: Path) -> TreeRecord | None:
        row = self._db.execute(
            "SELECT listing, snapshot, files, skipped, blobs FROM trees WHERE root = ?",
            (str(root),),
        ).fetchone()
        if row is None:
            return None
        listing, snapshot, files, skipped, blobs = row
        try:
            counts = json.loads(skipped)
        except ValueError:
            return None
        if not isinstance(counts, dict):
            return None
        return TreeRecord(listing, snapshot, files, counts, blobs)

    def remember_tree(self, root: Path, record: TreeRecord) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO trees (root, listing, snapshot, files, skipped, blobs)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(root),
                    record.listing,
                    record.snapshot,
                    record.files,
                    json.dumps(record.skipped),
                    record.blobs,
                ),
            )

    def report(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM reports WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def remember_report(self, key: str, text: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM reports WHERE key = ?", (key,))
            self._db.execute("INSERT INTO reports (key, value) VALUES (?, ?)", (key, text))
            self._db.execute(
                "DELETE FROM reports WHERE rowid NOT IN"
                " (SELECT rowid FROM reports ORDER BY rowid DESC LIMIT ?)",
                (KEPT_REPORTS,),
            )

    def parsed_rules(self, digest: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM parsed_rules WHERE digest = ?", (digest,)
        ).fetchone()
        return None if row is None else str(row[0])

    def remember_parsed_rules(self, digest: str, text: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM parsed_rules WHERE digest = ?", (digest,))
            self._db.execute(
                "INSERT INTO parsed_rules (digest, value) VALUES (?, ?)", (digest, text)
            )
            self._db.execute(
                "DELETE FROM parsed_rules WHERE rowid NOT IN"
                " (SELECT rowid FROM parsed_rules ORDER BY rowid DESC LIMIT ?)",
                (KEPT_PARSED_RULES,),
            )

    def close(self) -> None:
        self._db.close()
