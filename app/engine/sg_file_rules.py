"""Whole-file conditions of an ast-grep rule, decided once per file.

A rule such as `inside: {stopBy: end, kind: program, not: {has: {stopBy: end, regex: ...}}}`
("the file never sets a timeout") asks the same question of the whole file for every candidate
node: ast-grep walks the file once per candidate, which is quadratic in a file with many
candidates (a minified bundle with thousands of `fetch(` calls took minutes). The root of a
syntax tree is the only node of its kind (`program`, `module`, `source_file`, `stream`: a
grammar's start symbol never nests), so such a clause holds for every node or for none: it is
decided here once, against the root, and the rule handed to ast-grep keeps only what depends on
the candidate. A rule that can match nothing in the file is not run at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# keys of a relational rule that say where to look, not what to match
_RELATION_KEYS = ("stopBy", "field")
_RELATIONS = ("has", "inside", "follows", "precedes")


class _Unchanged(Exception):
    """The rule cannot be rewritten without a constraint ast-grep cannot express: keep it."""


def rule_for_file(rule: Mapping[str, Any], root: Any) -> Mapping[str, Any] | None:
    """`rule` with its whole-file clauses decided against `root` (the file's root node); None
    when it matches nothing in this file. Equivalent to `rule` on every node but the root."""
    try:
        simplified = _simplify(rule, root, root.kind(), {})
    except _Unchanged:
        return rule
    if simplified is False:
        return None
    if simplified is True:
        return rule  # every node: nothing to spare (no such rule in practice)
    return simplified


def _simplify(
    rule: Mapping[str, Any], root: Any, root_kind: str, decided: dict[str, bool]
) -> dict[str, Any] | bool:
    """The rule, True (no constraint left) or False (matches nothing)."""
    out: dict[str, Any] = {}
    for key, value in rule.items():
        if key == "inside" and _about_root(value, root_kind):
            if not _root_holds(value, root, decided):
                return False
            if value.get("stopBy") != "end":
                out["inside"] = {"kind": root_kind}  # still: the parent must be the root
            continue
        if key == "all":
            items = []
            for sub in value:
                found = _simplify(sub, root, root_kind, decided)
                if found is False:
                    return False
                if found is not True:
                    items.append(found)
            if items:
                out["all"] = items
        elif key == "any":
            items = []
            anything = False
            for sub in value:
                found = _simplify(sub, root, root_kind, decided)
                if found is True:
                    anything = True
                elif found is not False:
                    items.append(found)
            if anything:
                continue
            if not items:
                return False
            out["any"] = items
        elif key == "not":
            found = _simplify(value, root, root_kind, decided)
            if found is True:
                return False
            if found is not False:
                out["not"] = found
        elif key in _RELATIONS and isinstance(value, Mapping):
            where = {k: v for k, v in value.items() if k in _RELATION_KEYS}
            found = _simplify(
                {k: v for k, v in value.items() if k not in _RELATION_KEYS},
                root,
                root_kind,
                decided,
            )
            if found is False:
                return False
            if found is True:
                raise _Unchanged  # "has any node": no rule says it
            out[key] = {**found, **where}
        else:
            out[key] = value
    return out or True


def _about_root(value: Any, root_kind: str) -> bool:
    """An `inside` clause whose target can only be the root: its kind, no field, a plain stop."""
    return (
        isinstance(value, Mapping)
        and value.get("kind") == root_kind
        and "field" not in value
        and value.get("stopBy", "neighbor") in ("neighbor", "end")
    )


def _root_holds(value: Mapping[str, Any], root: Any, decided: dict[str, bool]) -> bool:
    condition = {k: v for k, v in value.items() if k != "stopBy"}
    key = repr(sorted(condition.items()))
    if key not in decided:
        decided[key] = bool(root.matches(**condition))
    return decided[key]
