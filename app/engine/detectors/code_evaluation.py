"""Judge of `eval` / `exec` / `Function(...)` (SEC003, and SEC026 for weaker evidence).

Unsafe deserialisation (pickle, yaml.load, Java streams) stays a stop-ship as matched. For code
evaluation the judge asks what is evaluated and where:

- constant code (literals, module constants, a value checked against an allow-list) and operator
  shells (a management command or CLI entry point that runs code its operator typed) are not
  findings;
- request data, or a parameter of the function, evaluated as code is a stop-ship
  (`evidence: strong`), unless the code is loaded as a module (`exec(code, module.__dict__)`,
  a plugin or script loader) or compiled by a sandbox (`compile_restricted`): those, and code
  of an origin the function does not show (object state, storage, other calls), are reported
  for review (`evidence: weak`).
"""

from __future__ import annotations

import re
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import node_judge
from app.engine.detectors.evidence import Verdict, as_matched, detail_at_level
from app.engine.flow import Flow, Source, file_flow
from app.engine.flow.origin import Node, named_children

_EVALUATION = re.compile(r"^(eval|exec|Function|new\s+Function|vm\.run\w*)\s*\(")
# Django management commands and click / typer / argparse entry points run for an operator.
_OPERATOR_COMMAND = re.compile(r"\b(BaseCommand|LabelCommand|AppCommand)\b")
_SANDBOX = re.compile(r"(?i)(restricted|sandbox|safe_?eval|simple_?eval|asteval|literal_eval)")
_MODULE_NAMESPACE = re.compile(r"(\.__dict__|^vars\(|^(types\.)?ModuleType\()")


@node_judge("code_evaluation")
def code_evaluation(ctx: FileContext, node: Node, options: dict[str, Any]) -> str | None:
    if not _EVALUATION.match(node.text()):
        return as_matched(options)  # deserialisation
    args = named_children(node.field("arguments"))
    flow = file_flow(ctx, node)
    if flow is None or not args:
        return as_matched(options) if args else None
    if "cli" in ctx.roles or _in_operator_command(node):
        return None
    code = args[-1] if node.text().lstrip().startswith(("Function", "new")) else args[0]
    try:
        verdict = _judge(flow, code, args[1:] if code is args[0] else [])
    except RecursionError:
        verdict = "strong", "code too deeply nested to follow"
    return detail_at_level(verdict, options)


def _judge(flow: Flow, code: Node, namespaces: list[Node]) -> Verdict:
    taints = flow.origin(code)
    if not taints:
        return None  # constant code, or a value checked against an allow-list
    request = sorted(t.name for t in taints if t.source is Source.REQUEST)
    if request:
        return "strong", f"request data `{request[0]}` evaluated as code"
    if _sandboxed(flow, code):
        return "weak", "code compiled by a sandbox"
    if any(_MODULE_NAMESPACE.search(n.text()) for n in namespaces):
        return "weak", "code executed as a module (a script or plugin loader)"
    parameters = sorted(t.name for t in taints if t.source is Source.PARAMETER)
    if parameters:
        return "strong", f"parameter `{parameters[0]}` evaluated as code"
    shown = sorted(t.name for t in taints)
    return "weak", f"code from `{shown[0]}`"


def _sandboxed(flow: Flow, code: Node) -> bool:
    values = [code]
    if code.kind() == "identifier":
        values = flow.values_of(code.text(), code) or values
    for value in values:
        callee = value.field("function") if value.kind() in ("call", "call_expression") else None
        if callee is not None and _SANDBOX.search(callee.text()):
            return True
    return False


def _in_operator_command(node: Node) -> bool:
    for ancestor in node.ancestors():
        if ancestor.kind() == "class_definition":
            bases = ancestor.field("superclasses")
            if bases is not None and _OPERATOR_COMMAND.search(bases.text()):
                return True
    return False
