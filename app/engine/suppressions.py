"""Inline suppressions: `stopship: ignore[RULE-ID, ...] reason` in any comment syntax."""

from __future__ import annotations

import re

from app.engine.line_counter import LineCounter
from app.engine.model import Suppression

SUPPRESSION = re.compile(r"stopship:\s*ignore\[(?P<rules>[A-Za-z0-9_,\s*-]*)\](?P<reason>[^\n]*)")
_COMMENT_TAIL = re.compile(r"\s*(\*/|-->|\"\"\"|''')\s*$")


def parse_suppressions(text: str) -> list[Suppression]:
    """Every suppression comment in `text`, with its 1-based line, rule ids and reason."""
    if "stopship:" not in text:
        return []
    found = []
    lines = LineCounter(text)
    for match in SUPPRESSION.finditer(text):
        line = lines.line_of(match.start())
        rules = tuple(r.strip().upper() for r in match.group("rules").split(",") if r.strip())
        reason = _COMMENT_TAIL.sub("", match.group("reason")).strip(" \t-—:")
        found.append(Suppression(line=line, rules=rules, reason=reason))
    return found


def suppression_for(
    rule: str, line: int | None, suppressions: list[Suppression]
) -> Suppression | None:
    """The suppression that silences `rule` at `line`: on that line, or alone on the line above.

    A file-level finding (line None) is silenced by a suppression in the file's first 5 lines.
    """
    for s in suppressions:
        if rule not in s.rules and "*" not in s.rules:
            continue
        if line is None:
            if s.line <= 5:
                return s
        elif s.line in (line, line - 1):
            return s
    return None
