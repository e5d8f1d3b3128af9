"""The CLI's on-disk cache of per-file results, keyed by (blob id, path kind, ruleset digest).

Stored as JSON in a SQLite file (stdlib), never pickled: a cache directory could arrive inside a
scanned repository, and loading it must not run code.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.engine.model import FileResult
from app.engine.serialize import result_from_dict, result_to_json


class ResultCache:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by stopship\n*\n")
        self._db = sqlite3.connect(directory / "results.sqlite3", timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blobs (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
            " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, sha TEXT NOT NULL)"
        )

    @staticmethod
    def key(blob_sha: str, path_kind: str, digest: str) -> str:
        return f"{blob_sha}:{path_kind}:{digest}"

    def get_many(self, keys: list[str]) -> dict[str, FileResult]:
        out: dict[str, FileResult] = {}
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

    def known_blobs(self) -> dict[str, tuple[tuple[int, int, int], str]]:
        """Blob ids of files as last seen, by path, with the stamp that identifies them."""
        rows = self._db.execute("SELECT path, size, mtime_ns, ctime_ns, sha FROM blobs")
        return {path: ((size, mtime, ctime), sha) for path, size, mtime, ctime, sha in rows}

    def remember_blobs(self, stamps: dict[str, tuple[tuple[int, int, int], str]]) -> None:
        with self._db:
            self._db.execute("DELETE FROM blobs")
            self._db.executemany(
                "INSERT INTO blobs (path, size, mtime_ns, ctime_ns, sha) VALUES (?, ?, ?, ?, ?)",
                [(p, *stamp, sha) for p, (stamp, sha) in stamps.items()],
            )

    def close(self) -> None:
        self._db.close()
