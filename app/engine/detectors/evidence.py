"""Judges that answer two rules: a stop-ship rule (`evidence: strong` in its matcher's options)
and its lower-severity review rule (`evidence: weak`). The judge decides the level of what it
finds; each rule keeps the findings at its own level."""

from __future__ import annotations

from typing import Any

# ("strong" or "weak", the finding's detail); None: not a finding at either level.
Verdict = tuple[str, str] | None


def as_matched(options: dict[str, Any]) -> str | None:
    """A match the judge cannot look into (no analysis for its language, nothing to follow):
    the stop-ship rule reports it as matched, its review rule does not."""
    return "" if options.get("evidence") == "strong" else None


def detail_at_level(verdict: Verdict, options: dict[str, Any]) -> str | None:
    """The detail of `verdict` for the rule whose level it is; None for the other rule, or when
    it is no finding."""
    if verdict is None:
        return None
    level, detail = verdict
    return detail if (level == "strong") == (options.get("evidence") == "strong") else None
