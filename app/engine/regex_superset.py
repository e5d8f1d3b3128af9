"""Python regexes rewritten for RE2, to screen files before Python's engine runs.

`superset(pattern)` parses a Python pattern (with the standard library's own parser) and writes an
RE2 pattern that matches, on ASCII text, wherever the Python pattern (compiled with MULTILINE, as
the engine compiles every rule pattern) can match: lookarounds are dropped, back-references become
"anything", possessive repeats become ordinary ones. So "RE2 finds no match" proves "Python finds
none", and RE2 scans a file with a DFA in one pass where Python backtracks at every offset.

The rewritten pattern is `exact` when nothing was dropped: then RE2 and Python agree on ASCII
text (Python's `\\s` is spelled out: RE2's omits `\\v` and `\\x1c-\\x1f`). Anything the rewriter
does not know makes `superset` return None, and the caller simply runs Python as before.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The standard library's own regex parser and its opcodes (`re._parser`, `re._constants` since
# 3.11): the same parse Python's engine compiles, so nothing is re-implemented here.
_parser: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

# Python's str `\s` restricted to ASCII (str.isspace): RE2's `\s` lacks \v and \x1c-\x1f.
_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f "
_WORD = "0-9A-Za-z_"
_DIGIT = "0-9"
_CATEGORY_IN_CLASS = {
    sre.CATEGORY_DIGIT: _DIGIT,
    sre.CATEGORY_WORD: _WORD,
    sre.CATEGORY_SPACE: _SPACE,
}
_NEGATED_CATEGORY = {
    sre.CATEGORY_NOT_DIGIT: _DIGIT,
    sre.CATEGORY_NOT_WORD: _WORD,
    sre.CATEGORY_NOT_SPACE: _SPACE,
}
# Inside a class beside other members: RE2's own classes. `\D` and `\W` agree with Python's on
# ASCII; RE2's `\S` also takes \v and \x1c-\x1f, so it is only a superset.
_NEGATED_IN_CLASS = {
    sre.CATEGORY_NOT_DIGIT: ("\\D", True),
    sre.CATEGORY_NOT_WORD: ("\\W", True),
    sre.CATEGORY_NOT_SPACE: ("\\S", False),
}
_FLAG_LETTERS = (
    (sre.SRE_FLAG_IGNORECASE, "i"),
    (sre.SRE_FLAG_MULTILINE, "m"),
    (sre.SRE_FLAG_DOTALL, "s"),
)
# RE2 refuses counted repetitions above 1000.
_MAX_COUNT = 1000


@dataclass(frozen=True)
class Superset:
    """An RE2 pattern matching at least where the Python one does; `exact` when the same."""

    pattern: str
    exact: bool
    # the fewest characters a match spans (Python's own estimate)
    min_width: int
    # a scoped `(?-i:...)` turns case-folding off inside the pattern
    unfolds_case: bool


class _Unsupported(Exception):
    pass


def _char(code: int) -> str:
    if chr(code).isalnum() and code < 128:
        return chr(code)
    return f"\\x{{{code:x}}}"


class _Writer:
    def __init__(self, max_span: int) -> None:
        self.exact = True
        self.unfolds_case = False
        self.max_span = max_span

    def sequence(self, items: Any) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        if op is sre.LITERAL:
            return _char(av)
        if op is sre.NOT_LITERAL:
            return f"[^{_char(av)}]"
        if op is sre.ANY:
            return "."
        if op is sre.IN:
            return self.char_class(av)
        if op is sre.BRANCH:
            return "(?:" + "|".join(self.sequence(branch) for branch in av[1]) + ")"
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            self.unfolds_case = self.unfolds_case or bool(del_flags & sre.SRE_FLAG_IGNORECASE)
            return f"(?{_flags(add_flags, del_flags)}:{self.sequence(body)})"
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            if op is sre.POSSESSIVE_REPEAT:
                self.exact = False  # a possessive repeat can refuse what an ordinary one takes
            low, high, body = av
            return f"(?:{self.sequence(body)}){self.count(low, high)}"
        if op is sre.ATOMIC_GROUP:
            self.exact = False
            return f"(?:{self.sequence(av)})"
        if op is sre.AT:
            return self.anchor(av)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            self.exact = False  # dropping a lookaround only lets more through
            return ""
        if op is sre.GROUPREF:
            self.exact = False
            return "(?s:.*)"
        if op is sre.GROUPREF_EXISTS:
            self.exact = False
            _group, yes, no = av
            return f"(?:{self.sequence(yes)}|{self.sequence(no) if no else ''})"
        raise _Unsupported(str(op))

    def count(self, low: int, high: int) -> str:
        if low > _MAX_COUNT:
            raise _Unsupported("repetition count")
        if high is sre.MAXREPEAT or high > _MAX_COUNT or high - low > self.max_span:
            if high is not sre.MAXREPEAT:
                self.exact = False
            return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
        if (low, high) == (0, 1):
            return "?"
        return f"{{{low}}}" if low == high else f"{{{low},{high}}}"

    def anchor(self, at: Any) -> str:
        # The engine compiles rule patterns with MULTILINE: `^`/`$` are line anchors.
        table = {
            sre.AT_BEGINNING: "(?m:^)",
            sre.AT_BEGINNING_LINE: "(?m:^)",
            sre.AT_END: "(?m:$)",
            sre.AT_END_LINE: "(?m:$)",
            sre.AT_BEGINNING_STRING: "\\A",
            sre.AT_END_STRING: "\\z",
            sre.AT_BOUNDARY: "\\b",
            sre.AT_NON_BOUNDARY: "\\B",
        }
        if at not in table:
            raise _Unsupported(str(at))
        return table[at]

    def char_class(self, items: Any) -> str:
        negate = bool(items) and items[0][0] is sre.NEGATE
        body = items[1:] if negate else items
        if len(body) == 1 and body[0][0] is sre.CATEGORY and body[0][1] in _NEGATED_CATEGORY:
            # `\S`, `\W`, `\D` alone (or `[^\S]`, which is `\s`)
            inner = _NEGATED_CATEGORY[body[0][1]]
            return f"[{inner}]" if negate else f"[^{inner}]"
        parts = []
        for op, av in body:
            if op is sre.LITERAL:
                parts.append(_char(av))
            elif op is sre.RANGE:
                parts.append(f"{_char(av[0])}-{_char(av[1])}")
            elif op is sre.CATEGORY and av in _CATEGORY_IN_CLASS:
                parts.append(_CATEGORY_IN_CLASS[av])
            elif op is sre.CATEGORY and av in _NEGATED_IN_CLASS and not negate:
                spelling, exact = _NEGATED_IN_CLASS[av]
                parts.append(spelling)
                self.exact = self.exact and exact
            else:
                # `[^\S...]` would negate RE2's wider `\S` into something narrower than Python's
                raise _Unsupported(str(op))
        if not parts:
            raise _Unsupported("empty class")
        return f"[{'^' if negate else ''}{''.join(parts)}]"


def _flags(add: int, remove: int) -> str:
    on = "".join(letter for flag, letter in _FLAG_LETTERS if add & flag)
    off = "".join(letter for flag, letter in _FLAG_LETTERS if remove & flag)
    return on + (f"-{off}" if off else "")


@lru_cache(maxsize=4096)
def superset(
    pattern: str, ignore_case: bool = False, max_span: int = _MAX_COUNT
) -> Superset | None:
    """The RE2 pattern for `pattern` as the engine compiles it (MULTILINE, and IGNORECASE when
    `ignore_case`), or None when it cannot be rewritten. A counted repetition whose range is wider
    than `max_span` loses its upper bound (`{0,400}` becomes `*`, and the result is not exact)."""
    try:
        tree = _parser.parse(pattern, sre.SRE_FLAG_IGNORECASE if ignore_case else 0)
        writer = _Writer(max_span)
        body = writer.sequence(tree)
    except (_Unsupported, ValueError, TypeError, IndexError, RecursionError):
        return None
    flags = _flags(tree.state.flags, 0)
    return Superset(
        f"(?{flags}:{body})" if flags else body,
        writer.exact,
        min(tree.getwidth()[0], 1 << 30),
        writer.unfolds_case,
    )


_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})


def always_contains(pattern: str, words: tuple[str, ...]) -> bool:
    """True when every match of `pattern` (compiled without IGNORECASE) contains one of `words`
    as a substring: then finding a match proves the words are there, and a separate look for
    them is redundant. False when that cannot be shown."""
    try:
        tree = _parser.parse(pattern, 0)
    except (ValueError, TypeError, IndexError, RecursionError):
        return False
    if tree.state.flags & sre.SRE_FLAG_IGNORECASE:
        return False
    return bool(words) and _contains(tree, words)


def _contains(items: Any, words: tuple[str, ...]) -> bool:
    """Whether every match of the sequence `items` contains one of `words`."""
    run: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            if any(word in "".join(run) for word in words):
                return True
            continue
        if str(op) in _ZERO_WIDTH:
            continue  # consumes nothing: the literals on both sides stay adjacent in the text
        run = []
        if op is sre.BRANCH:
            if all(_contains(branch, words) for branch in av[1]):
                return True
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if not (add_flags | del_flags) & sre.SRE_FLAG_IGNORECASE and _contains(body, words):
                return True
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, _high, body = av
            if low >= 1 and _contains(body, words):
                return True
        elif op is sre.ATOMIC_GROUP and _contains(av, words):
            return True
    return False
