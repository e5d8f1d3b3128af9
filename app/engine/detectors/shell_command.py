"""Judge of shell commands (SEC004): the ast-grep rule finds a shell run with a command that is
not a literal; the judge drops commands built only from constants (a module constant passed
through a variable) and `shell=<variable>` whose every value in the function is false. A
parameter in the command keeps it, whatever its type."""

from __future__ import annotations

from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import node_judge
from app.engine.flow import Flow, file_flow
from app.engine.flow.origin import Node, named_children, union

_FALSE = {"False", "None", "0"}


@node_judge("shell_command")
def shell_command(ctx: FileContext, node: Node, options: dict[str, Any]) -> str | None:
    flow = file_flow(ctx, node)
    arguments = node.field("arguments")
    if flow is None or arguments is None:
        return ""
    args = named_children(arguments)
    positional = [a for a in args if a.kind() != "keyword_argument"]
    try:
        for keyword in args:
            if keyword.kind() == "keyword_argument" and _shell_never_true(flow, keyword):
                return None
        taints = union(flow.origin(a) for a in positional)
    except RecursionError:
        return ""
    if not taints and not any(_names_a_parameter(flow, a) for a in positional):
        return None  # the command is a constant
    return ", ".join(sorted(f"{t.source.value} `{t.name}`" for t in taints)[:2])


def _names_a_parameter(flow: Flow, argument: Node) -> bool:
    """Whether the command mentions a parameter, even one whose type makes it harmless (a
    number in a shell command is still a shell command built from input)."""
    identifiers = (
        [argument] if argument.kind() == "identifier" else argument.find_all(kind="identifier")
    )
    for identifier in identifiers:
        function = flow.enclosing_function(identifier)
        if function is not None and identifier.text() in flow.scope(function).parameters:
            return True
    return False


def _shell_never_true(flow: Flow, keyword: Node) -> bool:
    """`shell=use_shell` where every value the function gives `use_shell` is false."""
    name, value = keyword.field("name"), keyword.field("value")
    if name is None or value is None or name.text() != "shell":
        return False
    values = flow.values_of(value.text(), value)
    return bool(values) and all(v.text() in _FALSE for v in values)
