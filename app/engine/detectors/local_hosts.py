"""Hardcoded `localhost` / `127.0.0.1` in application code.

A default that the environment overrides is configuration done right, so a literal on the same
line as an environment lookup (`os.getenv("DB_HOST", "localhost")`, `process.env.X || "..."`,
`System.getenv`, a settings-model field) is not reported; neither is a development entry point
under `if __name__ == "__main__":`, a comment nor a Python docstring (an example for the reader).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Hit
from app.engine.python_strings import file_documentation_lines
from app.engine.screen import hint

_HOST = r"(?:localhost|127\.0\.0\.1)"
# A URL (`redis://localhost:6379/0`), a host:port (`127.0.0.1:5432`), or a host-named assignment.
_LITERAL = re.compile(
    r"""["'](?P<value>[a-z][a-z0-9+.-]*://(?:[^"'\s/@]*@)?"""
    + _HOST
    + r"""(?::\d+)?(?:/[^"'\s]*)?)["']"""
    r"""|["'](?P<hostport>""" + _HOST + r""":\d+)["']"""
    r"""|\b(?:host|hostname|server|addr|address|endpoint|base_?url)\w*["']?\s*[:=]\s*["'](?P<named>"""
    + _HOST
    + r""")["']""",
    re.IGNORECASE,
)
_JS_LITERAL = re.compile(
    r"`(?P<value>[a-z][a-z0-9+.-]*://(?:[^`\s/@]*@)?" + _HOST + r"(?::\d+)?[^`\s]*)`"
)
_OVERRIDABLE = re.compile(
    r"((?i:get_?env|origin)|environ|process\.env|os\.Getenv|LookupEnv|System\.getenv|@Value|Field\(|"
    r"default\s*=|\?\?|\|\||env\(|config\.get|settings\.|ALLOWED_HOSTS|CORS|TRUSTED|==|!=|\bin\s*\()"
)
_LITERAL_HINTS = (hint(_LITERAL.pattern, lowered=True), hint(_JS_LITERAL.pattern))
_COMMENT = re.compile(r"^\s*(#|//|\*|/\*)")
_SETTINGS_CLASS = re.compile(r"^class\s+\w+\((?:[\w.]*\s*,\s*)*[\w.]*(BaseSettings|Settings)\)")


@file_detector("hardcoded_local_hosts")
def hardcoded_local_hosts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    if not any(ctx.may_match(h) for h in _LITERAL_HINTS):
        return  # no literal that a line could be reported for
    if "localhost" not in ctx.text and "127.0.0.1" not in ctx.text:
        return
    in_main = False
    in_settings = False
    python = ctx.language == "python"
    for number, line in enumerate(ctx.lines, start=1):
        if python and line and not line[0].isspace():
            stripped = line.lstrip()
            in_main = stripped.startswith("if __name__")
            in_settings = bool(_SETTINGS_CLASS.match(stripped))
        if "127.0.0.1" not in line and "localhost" not in line.lower():
            continue  # every literal pattern names one of the two hosts
        if in_main or in_settings or _COMMENT.match(line) or _OVERRIDABLE.search(line):
            continue
        m = _LITERAL.search(line)
        if m is None and ctx.language in {"javascript", "typescript", "tsx", "go"}:
            m = _JS_LITERAL.search(line)
        if m and not (ctx.language == "python" and number in file_documentation_lines(ctx)):
            value = next(v for v in m.groupdict().values() if v)
            yield Hit("", number, value, f"`{value}`")
