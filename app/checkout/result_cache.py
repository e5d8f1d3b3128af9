"""The CLI's on-disk cache of per-file results, keyed by (blob id, path kind, ruleset digest).

Stored as JSON in a SQLite file (stdlib), never pickled: a cache directory could arrive inside a
scanned repository, and loading it must not run code.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.engine.model import FileResult
from app.engine.serialize import result_from_dict, result_to_dict


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
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)",
                [
                    (k, json.dumps(result_to_dict(v), separators=(",", ":")))
                    for k, v in items.items()
                ],
            )

    def close(self) -> None:
        self._db.close()
