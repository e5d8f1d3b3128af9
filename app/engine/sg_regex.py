"""ast-grep compiles a rule's regexes on every `find_all` call, and Rust's Unicode-aware
`\\w`, `\\s`, `\\d` and `\\b` make that compile cost up to a millisecond per rule per file.
Rules are written with the usual escapes and rewritten here, once, to their ASCII equivalents
(source code keywords, identifiers and SQL are ASCII), which compile in microseconds."""

from __future__ import annotations

from typing import Any

_OUTSIDE = {
    "w": "[A-Za-z0-9_]",
    "s": "[ \\t\\r\\n\\f]",
    "d": "[0-9]",
    "S": "[^ \\t\\r\\n\\f]",
    "b": "(?-u:\\b)",
    "W": "[^A-Za-z0-9_]",
    "D": "[^0-9]",
}
_INSIDE = {"w": "A-Za-z0-9_", "s": " \\t\\r\\n\\f", "d": "0-9"}


def ascii_regex(pattern: str) -> str:
    """Rewrite `\\w \\s \\d \\S \\W \\D \\b` (outside and, for `\\w \\s \\d`, inside classes)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            # a `]` right after `[` or `[^` is a literal
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def ascii_rule(rule: Any) -> Any:
    """A copy of an ast-grep rule object with every `regex` rewritten by `ascii_regex`."""
    if isinstance(rule, dict):
        return {
            k: ascii_regex(v) if k == "regex" and isinstance(v, str) else ascii_rule(v)
            for k, v in rule.items()
        }
    if isinstance(rule, list):
        return [ascii_rule(v) for v in rule]
    return rule
