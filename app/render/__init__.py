"""Renderers of one Report: text, JSON, Markdown, SARIF and GitHub workflow commands."""

from __future__ import annotations

from collections.abc import Callable

from app.engine.report import Report
from app.engine.ruleset import Ruleset

Renderer = Callable[[Report, Ruleset], str]


def renderer_for(fmt: str) -> Renderer:
    from app.render import github, json_report, markdown, sarif, text

    table: dict[str, Renderer] = {
        "json": json_report.render,
        "markdown": markdown.render,
        "sarif": sarif.render,
        "github": github.render,
        "text": text.render,
    }
    return table[fmt]
