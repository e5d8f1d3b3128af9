"""Exception text or stack traces returned to callers (ERR005).

One regex over the languages' usual shapes (`detail=str(e)`, `{"error": str(e)}`,
`res.status(500).json({ error: err.message })`, gin's `c.JSON(500, ... err.Error())`, Spring's
`include-stacktrace=always`...). In Python the same dict shapes are the usual way to give a log
record its context: a match inside a logging call (`logger.warning("...", extra={"error":
str(e)})`) goes to the logs, not to the caller, and is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.guided_search import guide
from app.engine.model import Hit
from app.engine.screen import hint

_EXC = r"(e|ex|exc|err|error|exception)"
_RESPONSE_TEXT = re.compile(
    "|".join(
        [
            # Python
            rf"detail\s*=\s*(str|repr)\(\s*{_EXC}\s*\)",
            rf"[\"']?(error|detail|message|trace|traceback)[\"']?\s*:\s*(str|repr)\(\s*{_EXC}\s*\)",
            r"traceback\.format_exc\(\)(?=[^\n]*(return|Response|jsonify|\}))",
            r"return\s+[^\n]*traceback\.format_exc\(\)",
            # Express
            r"res(\.status\(\s*\d+\s*\))?\.(json|send)\([^\n)]*\b(err|error|e)\.(message|stack)\b",
            # Go net/http and gin
            r"http\.Error\(\s*\w+\s*,\s*err\.Error\(\)",
            r"\bc\.(JSON|String|AbortWithStatusJSON|IndentedJSON|PureJSON|XML)\(\s*(5\d\d|http\.Status"
            r"(InternalServerError|BadGateway|ServiceUnavailable))\s*,[^\n]*\berr\.Error\(\)",
            r"fmt\.Fprint(f|ln)?\(\s*w\s*,[^\n]*\berr\b",
            # Spring
            r"ResponseEntity[^;\n]*\.(body|status)\([^;\n]*(\.(getMessage|getLocalizedMessage)\(\)"
            r"|ExceptionUtils\.getStackTrace\()",
            r"\.printStackTrace\(\s*\w+\.getWriter\(\)\s*\)",
            r"^\s*(server\.error\.)?include-(stacktrace|message|exception)\s*[=:]\s*[\"']?"
            r"(always|true)\b",
        ]
    ),
    re.MULTILINE,
)
_RESPONSE_TEXT_HINT = hint(_RESPONSE_TEXT)
# a logging call (`logger.info(...)`, `self.log.warning(...)`, `logging.error(...)`), or any
# `extra=` argument (the standard library's way to give a log record context)
_LOG_ARGUMENTS = {
    "rule": {
        "any": [
            {
                "kind": "call",
                "has": {
                    "field": "function",
                    "kind": "attribute",
                    "regex": r"(?i)^[A-Za-z0-9_.]*log[A-Za-z0-9_.]*\."
                    r"(debug|info|warning|warn|error|exception|critical|fatal|log|msg)$",
                },
            },
            {"kind": "keyword_argument", "regex": r"^extra[ \t]*="},
        ]
    }
}


@file_detector("exception_text_in_response", needs=_RESPONSE_TEXT_HINT)
def exception_text_in_response(ctx: FileContext, options: dict[str, Any]) -> Iterator[Hit]:
    """Matches of the response shapes, less (in Python) those that are arguments of a log call."""
    if not ctx.may_match(_RESPONSE_TEXT_HINT):
        return
    text = ctx.text
    guided = guide(_RESPONSE_TEXT_HINT.pattern) if ctx.seen is not None else None
    if guided is not None:
        matches = list(guided.finditer(_RESPONSE_TEXT, text, ctx.data))
    else:
        matches = list(_RESPONSE_TEXT.finditer(text))
    if not matches:
        return
    logged = _logged_spans(ctx) if ctx.language == "python" else []
    for m in matches:
        if any(start <= m.start() < end for start, end in logged):
            continue
        yield Hit("", ctx.line_of(m.start()), m.group(0)[:200])


def _logged_spans(ctx: FileContext) -> list[tuple[int, int]]:
    """The character spans of logging calls and `extra=` arguments in a Python file."""
    return [
        (node.range().start.index, node.range().end.index)
        for node in ctx.sg_root.find_all(_LOG_ARGUMENTS)
    ]
