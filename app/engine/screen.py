"""One pass over a file that tells which rule patterns can occur in it.

Every regex and ast-grep prefilter of a ruleset (the keyword lists of matchers that have no
pattern, and the hints detectors declare) is registered once; per file, one RE2 set reports in a
single DFA pass which of them match anywhere. A matcher whose pattern is absent is then skipped
without a scan of its own, and Python's backtracking engine only runs where a match is possible.

Only ASCII files are screened: there RE2 and Python agree on `\\w`, `\\s`, `\\b` and case, and byte
offsets are character offsets. Other files (and any RE2 failure) get `None`, meaning "not
screened", and every matcher runs as it would without a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.engine.regex_superset import superset

# Matches every text (at its end, which the set's DFA reaches anyway): if it is missing from an
# answer, RE2 gave up (its DFA ran out of memory) rather than finding nothing.
_SENTINEL = "\\z"
_MAX_MEM = 64 << 20  # shared by the sets
_PER_SET = 32  # patterns per RE2 set
# A set's DFA that counts up to 400 after every `log.x(` keeps a state for each set of positions it
# may be at: the set holding the two such logging patterns cost 2-3 times the others per byte. The
# screen drops upper bounds of ranges wider than this (`{0,400}` becomes `*`); guided searches keep
# them, since a looser pattern there proposes more offsets for Python to try.
_MAX_SPAN = 32


@dataclass(frozen=True, eq=False)  # compared (and hashed) by identity: cheap look-ups
class Hint:
    """A Python pattern a detector declares at import time, so that the screen can tell it that
    the pattern certainly does not occur in a file (`FileContext.may_match`) and the detector can
    skip work that could only find something where it occurs."""

    pattern: str
    # the detector looks for it in the lower-cased text
    lowered: bool = False


HINTS: list[Hint] = []


_INLINE_FLAGS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"), (re.VERBOSE, "x"))


def hint(pattern: str | re.Pattern[str], *, lowered: bool = False) -> Hint:
    """Declare (and return) a hint; every Analyzer screens files for every declared hint.
    A compiled pattern brings its flags along (MULTILINE needs none: hints assume it, which
    only widens `^` and `$`)."""
    if isinstance(pattern, re.Pattern):
        letters = "".join(letter for flag, letter in _INLINE_FLAGS if pattern.flags & flag)
        pattern = f"(?{letters}){pattern.pattern}" if letters else pattern.pattern
    declared = Hint(pattern, lowered)
    HINTS.append(declared)
    return declared


def _literal(word: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in word)


class Screen:
    """Patterns registered once (ids are small ints), all matched per file at once."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {_SENTINEL: 0}
        self._set: Any = None

    def keywords(self, words: tuple[str, ...], *, lowered: bool = False) -> int:
        """The id of "one of `words` occurs" (case-insensitively when `lowered`)."""
        alternatives = "|".join(_literal(w) for w in words)
        return self._add(f"(?i:{alternatives})" if lowered else f"(?:{alternatives})")

    def pattern(self, pattern: str, *, lowered: bool = False) -> tuple[int, bool] | None:
        """The id of a Python pattern (compiled with MULTILINE; run on the lower-cased text when
        `lowered`) and whether RE2's answer is exactly Python's (else a match still needs Python
        to confirm it); None when the screen cannot or need not answer for it."""
        rewritten = superset(pattern, max_span=_MAX_SPAN)
        if rewritten is None or rewritten.min_width <= 1:
            return None  # one character is found at once by Python too: not worth a DFA state
        if lowered and not rewritten.unfolds_case:
            # RE2 folds case itself, so the lower-cased text need not be built and scanned again;
            # case-folding the rewritten lower-case pattern accepts at least what it did.
            return self._add(f"(?i:{rewritten.pattern})"), False
        if lowered:
            return None
        return self._add(rewritten.pattern), rewritten.exact

    def _add(self, re2_pattern: str) -> int:
        entry = self._ids.get(re2_pattern)
        if entry is None:
            entry = self._ids[re2_pattern] = len(self._ids)
            self._set = None
        return entry

    def _compiled(self) -> list[tuple[Any, list[int], frozenset[int]]]:
        """The patterns in sets of at most _PER_SET (each with its own sentinel), and the ids of
        each set's patterns in its order: several small DFAs stay within their memory where one
        for every pattern would build and drop states again and again (2-3 times slower)."""
        if self._set is None:
            import re2  # google-re2; imported where it is used, as are ast-grep and pglast

            patterns = list(self._ids)[1:]  # in id order: a dict keeps insertion order
            groups = [patterns[i : i + _PER_SET] for i in range(0, len(patterns), _PER_SET)]
            sets = []
            for group in groups or [[]]:
                options = re2.Options()
                options.max_mem = _MAX_MEM // max(1, len(groups))
                options.log_errors = False
                compiled = re2.Set.SearchSet(options)
                for pattern in (_SENTINEL, *group):
                    compiled.Add(pattern)
                compiled.Compile()
                ids = [0] + [self._ids[p] for p in group]
                sets.append((compiled, ids, frozenset(ids[1:])))
            self._set = sets
        return self._set  # type: ignore[no-any-return]

    def scan(self, data: bytes, needed: frozenset[int] | None = None) -> frozenset[int] | None:
        """The ids that occur in `data`, or None when the file cannot be screened. With `needed`,
        only the sets that hold one of those ids run; the ids of the others are reported as
        occurring (nothing is proven about them; the caller asks only about `needed`)."""
        if not data.isascii():
            return None
        found: set[int] = set()
        for compiled, ids, members in self._compiled():
            if needed is not None and members.isdisjoint(needed):
                found.update(ids)
                continue
            matched = compiled.Match(data)
            if not matched or 0 not in matched:
                return None  # that set's DFA gave up: nothing is proven
            found.update(ids[i] for i in matched)
        return frozenset(found)
