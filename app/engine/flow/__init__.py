"""Where the values in a function come from: intra-function data flow over ast-grep trees.

`flow_for(language, node)` gives the analysis of one file; `origin(expr)` answers where an
expression's value comes from (see `origin.Source`). Judges of security rules use it to tell a
request parameter spliced into SQL text from a quoted identifier or a module constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.engine.flow.origin import Flow, Source, Taint, Taints

if TYPE_CHECKING:
    from app.engine.context import FileContext


def flow_for(language: str | None, node: Any) -> Flow | None:
    """The data-flow analysis for the file of `node` (an ast-grep node), or None for a language
    without one."""
    if language == "python":
        from app.engine.flow.python_flow import PythonFlow

        return PythonFlow(node.get_root().root())
    if language in ("javascript", "typescript", "tsx"):
        from app.engine.flow.js_flow import JsFlow

        return JsFlow(node.get_root().root())
    if language == "go":
        from app.engine.flow.go_flow import GoFlow

        return GoFlow(node.get_root().root())
    if language == "java":
        from app.engine.flow.java_flow import JavaFlow

        return JavaFlow(node.get_root().root())
    return None


def file_flow(ctx: FileContext, node: Any) -> Flow | None:
    """`flow_for` the file of `ctx` (`node` one of its ast-grep nodes), made once per file: every
    judge of the file starts from what a new analysis knows, plus what the file's text alone
    decided for an earlier judge (its scopes, calls, checked values), not rebuilt per node."""
    if file_flow in ctx.memo:
        flow: Flow | None = ctx.memo[file_flow]
        if flow is not None:
            flow.forget()
        return flow
    flow = ctx.memo[file_flow] = flow_for(ctx.language, node)
    return flow


__all__ = ["Flow", "Source", "Taint", "Taints", "file_flow", "flow_for"]
