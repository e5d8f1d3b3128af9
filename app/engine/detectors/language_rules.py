"""ast-grep rules that a rule file gives its detector in `options.ast_grep` (one per language),
for detectors that run ast-grep on some languages and judge what it finds (or other languages)
in Python; and the prefilters that spare the parse where a rule cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.engine.context import FileContext
from app.engine.screen import hint
from app.engine.sg_file_rules import rule_for_file
from app.engine.sg_regex import ascii_rule


class Prefilter:
    """A regex a file must match for a language's rule to find anything (it must accept all that
    the rule matches). Declared with the screen, which rules most files out in its one pass;
    where the screen's answer is not exact (lookaheads), Python's engine confirms it at the
    offsets the screen proposes."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern, re.MULTILINE)
        self.hint = hint(self.pattern)

    def passes(self, ctx: FileContext) -> bool:
        return ctx.search(self.hint, self.pattern, ctx.text) is not None


def rule_language(ctx: FileContext) -> str:
    """The key a file's rules are given under: its language (`typescript` for TSX)."""
    language = ctx.language or ""
    return "typescript" if language == "tsx" else language


def prefilter_passes(ctx: FileContext, prefilters: Mapping[str, Prefilter]) -> bool:
    """False when the file's language has no prefilter or the file cannot match it."""
    prefilter = prefilters.get(rule_language(ctx))
    return prefilter is not None and prefilter.passes(ctx)


def matching_nodes(ctx: FileContext, options: Mapping[str, Any]) -> list[Any]:
    """The nodes the options' ast-grep rule for this file's language matches (none without)."""
    rule = options.get("ast_grep", {}).get(rule_language(ctx))
    if rule is None:
        return []
    converted = _ASCII_RULES.get(id(rule))
    if converted is None or converted[0] is not rule:
        converted = _ASCII_RULES[id(rule)] = (rule, ascii_rule(rule))
    root = ctx.sg_root
    for_file = rule_for_file(converted[1], root)  # whole-file clauses decided once
    return [] if for_file is None else list(root.find_all({"rule": for_file}))


# Each options' rule rewritten once, not per file (keyed by identity; the rule is kept with its
# rewrite, so its id is never reused for another while it is here).
_ASCII_RULES: dict[int, tuple[Any, dict[str, Any]]] = {}
