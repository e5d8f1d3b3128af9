"""Python's matches of a pattern, found at the offsets where RE2 says they can start.

Python's engine finds the leftmost match by trying the whole pattern at every offset, which is
slow for a pattern that starts with an alternation or `\\b`. Every offset where a Python match
starts is an offset where the RE2 superset of the pattern (see `regex_superset`) matches, and RE2
finds the next such offset in one DFA scan. So asking RE2 for the next candidate and Python only
whether it matches *there* (`pattern.match(text, offset)`, which sees the text before the offset
exactly as a search does) yields exactly the matches `pattern.finditer(text)` yields.

Only for ASCII text (the offsets of `data` and `text` agree) and patterns whose matches span at
least two characters (after an empty match, `finditer` has its own rules for where to go on; a
one-character pattern is found as fast by Python alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from app.engine.regex_superset import superset


class Guide:
    """The RE2 superset of one Python pattern, compiled once."""

    def __init__(self, compiled: Any) -> None:
        self._re2 = compiled

    def finditer(self, pattern: re.Pattern[str], text: str, data: bytes) -> Iterator[re.Match[str]]:
        """What `pattern.finditer(text)` yields; `data` is `text` as ASCII bytes."""
        search = self._re2.search
        position, end = 0, len(data)
        while position <= end:
            candidate = search(data, position)
            if candidate is None:
                return
            start = candidate.start()
            found = pattern.match(text, start)
            if found is None:
                position = start + 1
                continue
            yield found
            position = found.end()

    def search(self, pattern: re.Pattern[str], text: str, data: bytes) -> re.Match[str] | None:
        """What `pattern.search(text)` returns (the first item of `finditer`, without it)."""
        search = self._re2.search
        position, end = 0, len(data)
        while position <= end:
            candidate = search(data, position)
            if candidate is None:
                return None
            start = candidate.start()
            found = pattern.match(text, start)
            if found is not None:
                return found
            position = start + 1
        return None


@lru_cache(maxsize=1024)
def guide(pattern: str, lowered: bool = False) -> Guide | None:
    """The guide for a Python pattern compiled with MULTILINE (run on the lower-cased text when
    `lowered`; RE2 then folds case on the original text), or None where there is none."""
    rewritten = superset(pattern)
    # Python finds a one-character match (`\\S`) at once by itself; an empty one is not guided
    if rewritten is None or rewritten.min_width <= 1 or (lowered and rewritten.unfolds_case):
        return None
    import re2  # google-re2, imported where it is used

    options = re2.Options()
    options.log_errors = False
    text = f"(?i:{rewritten.pattern})" if lowered else rewritten.pattern
    try:
        return Guide(re2.compile(text, options))
    except re2.error:
        return None
