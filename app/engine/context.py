"""FileContext: one file's path and bytes, with lazily built views (text, lines, syntax tree)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.engine.paths import language_of, roles_of

# ast-grep's grammar name per file kind.
SG_LANGUAGE = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "typescript",
    "tsx": "tsx",
    "go": "go",
    "java": "java",
    "yaml": "yaml",
    "compose": "yaml",
    "workflow": "yaml",
}


@dataclass
class FileContext:
    path: str
    data: bytes
    language: str | None = field(default=None)
    roles: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.language is None:
            self.language = language_of(self.path)
        if not self.roles:
            self.roles = roles_of(self.path)

    @cached_property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    @cached_property
    def lower_text(self) -> str | None:
        """`text.lower()` when that keeps every offset (ASCII text), else None."""
        return self.text.lower() if self.text.isascii() else None

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        text = self.text
        pos = text.find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        return starts

    def line_of(self, offset: int) -> int:
        """The 1-based line number of a character offset in `text`."""
        return bisect.bisect_right(self._line_starts, offset)

    @cached_property
    def sg_root(self) -> Any:
        """The ast-grep root node of this file (tree-sitter tolerates syntax `ast` rejects)."""
        from ast_grep_py import SgRoot

        language = SG_LANGUAGE.get(self.language or "")
        if language is None:
            raise ValueError(f"no ast-grep grammar for {self.path}")
        return SgRoot(self.text, language).root()
