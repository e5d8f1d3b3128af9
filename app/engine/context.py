"""FileContext: one file's path and bytes, with lazily built views (text, lines, syntax tree)."""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.engine.guided_search import guide
from app.engine.paths import language_of, roles_of
from app.engine.screen import Hint

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


# Counting newlines up to an offset runs in C at memory speed: below this much text times
# lookups it beats building (in Python) the table of line starts.
_COUNTED_CHARS = 4 << 20


@dataclass
class FileContext:
    path: str
    data: bytes
    language: str | None = field(default=None)
    roles: frozenset[str] = field(default_factory=frozenset)
    # What the screen found in this file (None: not screened), and the screen's id of each hint.
    seen: frozenset[int] | None = None
    hint_ids: Mapping[Hint, int] = field(default_factory=dict)
    # What the matchers of one file share (an ast-grep query's nodes, a detector's candidates
    # asked by several rules): computed once per file, by key.
    memo: dict[object, Any] = field(default_factory=dict, init=False, repr=False)
    _counted: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.language is None:
            self.language = language_of(self.path)
        if not self.roles:
            self.roles = roles_of(self.path)

    def may_match(self, hint: Hint) -> bool:
        """False only when the screen proved that `hint`'s pattern matches nowhere in the file."""
        if self.seen is None:
            return True
        entry = self.hint_ids.get(hint)
        return entry is None or entry in self.seen

    def search(self, hint: Hint, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
        """`pattern.search(text)`, where `text` is this file's text (or, for a `lowered` hint,
        its lower-cased text) and `hint` was declared from `pattern`: None at once where the
        screen ruled the hint out, else found at the offsets RE2 proposes."""
        if self.seen is not None:
            if not self.may_match(hint):
                return None
            guided = guide(hint.pattern, hint.lowered)
            if guided is not None:
                return guided.search(pattern, text, self.data)
        return pattern.search(text)

    def finditer(
        self, hint: Hint, pattern: re.Pattern[str], text: str
    ) -> Iterator[re.Match[str]]:
        """`pattern.finditer(text)` as `search` finds its first match: nothing where the screen
        ruled the hint out, else the matches at the offsets RE2 proposes."""
        if self.seen is not None:
            if not self.may_match(hint):
                return iter(())
            guided = guide(hint.pattern, hint.lowered)
            if guided is not None:
                return guided.finditer(pattern, text, self.data)
        return pattern.finditer(text)

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
        for line in self.text.split("\n")[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        return starts

    def line_of(self, offset: int) -> int:
        """The 1-based line number of a character offset in `text`."""
        # Most files are asked a few times: counting newlines beats building the table of line
        # starts, which only pays off for big files with many hits.
        if self._counted < _COUNTED_CHARS:
            self._counted += offset
            return self.text.count("\n", 0, offset) + 1
        return bisect.bisect_right(self._line_starts, offset)

    @cached_property
    def python_ast(self) -> ast.Module | None:
        """The file parsed by Python's `ast` (None when it is not valid Python 3): one parse
        for every detector that reads it. Never modified by them."""
        try:
            return ast.parse(self.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @cached_property
    def sg_root(self) -> Any:
        """The ast-grep root node of this file (tree-sitter tolerates syntax `ast` rejects)."""
        from ast_grep_py import SgRoot

        language = SG_LANGUAGE.get(self.language or "")
        if language is None:
            raise ValueError(f"no ast-grep grammar for {self.path}")
        return SgRoot(self.text, language).root()
