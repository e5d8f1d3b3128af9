"""One pass over a file that tells which rule patterns and keywords can occur in it.

Every regex, ast-grep prefilter and keyword of a ruleset is registered once; per file, two RE2
sets (one over the text, one over the lower-cased text) report in a single DFA pass which of them
match anywhere. A matcher whose keywords or pattern are absent is then skipped without a scan of
its own, and Python's backtracking engine only runs where a match is possible.

Only ASCII files are screened: there RE2 and Python agree on `\\w`, `\\s`, `\\b` and case, and byte
offsets are character offsets. Other files (and any RE2 failure) get `None`, meaning "not
screened", and every matcher runs as it would without a screen.
"""

from __future__ import annotations

from typing import Any

from app.engine.regex_superset import superset

# An empty pattern matches every text: if it is missing from a set's answer, RE2 gave up (its DFA
# ran out of memory) rather than finding nothing, and the file is treated as not screened.
_SENTINEL = ""
_MAX_MEM = 64 << 20


def _literal(word: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in word)


class Screen:
    """Patterns and keywords registered once (ids are small ints), matched per file at once."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, bool], int] = {}
        self._text: list[str] = [_SENTINEL]
        self._lower: list[str] = [_SENTINEL]
        self._text_ids: list[int] = [-1]
        self._lower_ids: list[int] = [-1]
        self._sets: tuple[Any, Any] | None = None

    def keyword(self, word: str, *, lowered: bool = False) -> int:
        """The id of a literal (found in the lower-cased text when `lowered`)."""
        return self._add(_literal(word.lower() if lowered else word), lowered)

    def pattern(self, pattern: str, *, lowered: bool = False) -> tuple[int, bool] | None:
        """The id of a Python pattern (compiled with MULTILINE, run on the lower-cased text when
        `lowered`) and whether RE2's answer is exactly Python's (else a match still needs Python to
        confirm it); None when RE2 cannot screen for it."""
        rewritten = superset(pattern)
        if rewritten is None:
            return None
        return self._add(rewritten.pattern, lowered), rewritten.exact

    def _add(self, re2_pattern: str, lowered: bool) -> int:
        key = (re2_pattern, lowered)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = len(self._entries)
            (self._lower if lowered else self._text).append(re2_pattern)
            (self._lower_ids if lowered else self._text_ids).append(entry)
            self._sets = None
        return entry

    def _compiled(self) -> tuple[Any, Any]:
        if self._sets is None:
            import re2  # google-re2; imported where it is used, as are ast-grep and pglast

            options = re2.Options()
            options.max_mem = _MAX_MEM
            options.log_errors = False
            sets = []
            for patterns in (self._text, self._lower):
                compiled = re2.Set.SearchSet(options)
                for pattern in patterns:
                    compiled.Add(pattern)
                compiled.Compile()
                sets.append(compiled)
            self._sets = (sets[0], sets[1])
        return self._sets

    def scan(self, data: bytes) -> frozenset[int] | None:
        """The ids that occur in `data`, or None when the file cannot be screened."""
        if not data.isascii():
            return None
        text_set, lower_set = self._compiled()
        found = text_set.Match(data)
        if not found or 0 not in found:
            return None
        ids = self._text_ids
        out = {ids[i] for i in found}
        if len(self._lower) > 1:
            found = lower_set.Match(data.lower())
            if not found or 0 not in found:
                return None
            ids = self._lower_ids
            out.update(ids[i] for i in found)
        return frozenset(out)
