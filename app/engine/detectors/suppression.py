"""A `stopship: ignore[...]` comment with no reason is itself a (low) finding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Hit
from app.engine.suppressions import parse_suppressions


@file_detector("suppression_without_reason")
def suppression_without_reason(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    for s in parse_suppressions(ctx.text):
        if len(s.reason) < 3:
            yield Hit("", s.line, f"stopship: ignore[{','.join(s.rules)}]")
