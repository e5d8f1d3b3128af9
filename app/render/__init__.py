"""Renderers of one Report: text, JSON, Markdown, SARIF and GitHub workflow commands."""

from __future__ import annotations

from collections.abc import Callable

from app.engine.report import Report
from app.engine.ruleset import Ruleset

Renderer = Callable[[Report, Ruleset], str]


def renderer_for(fmt: str, explain: bool = False) -> Renderer:
    """The renderer of a `--format`; `explain` gives every finding's why, impact and effort."""
    from app.render import github, json_report, markdown, sarif, text

    table: dict[str, Renderer] = {
        "json": json_report.render,
        "markdown": lambda report, ruleset: markdown.full_audit(report, ruleset, explain=explain),
        "sarif": sarif.render,
        "github": github.render,
        "text": lambda report, ruleset: text.render(report, ruleset, explain=explain),
        # the comment commands' bodies (`/production score`, `/production report`)
        "summary": lambda report, _: markdown.quick_score(report, markdown.CLI_POINTER),
        "report": markdown.stakeholder_report,
    }
    return table[fmt]
