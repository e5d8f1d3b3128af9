"""Judge of SQL text built by string formatting (SEC002, and SEC025 for weaker evidence).

The ast-grep rule finds SQL text with values spliced in; this judge asks where those values come
from. A stop-ship (`evidence: strong`) needs outside data reaching the text: request data
anywhere, or a parameter of the function spliced where SQL expects a value (inside quotes, after
a comparison, in an `IN (...)` or `VALUES (...)` list). A parameter spliced elsewhere (a table
or column name, a number, a clause) without quoting is weaker evidence (`evidence: weak`): its
origin is the caller's, and it may be a checked identifier. Constants, enum members, quoted
identifiers, placeholders (`$1`, `?`, `%s` bound apart), allow-listed values, object state and
the results of other calls are not findings.
"""

from __future__ import annotations

import re
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import node_judge
from app.engine.detectors.evidence import Verdict, as_matched, detail_at_level
from app.engine.flow import Source, Taints, file_flow
from app.engine.flow.origin import Node

# A parameter whose name says it holds SQL text: the function's contract is to splice it (its
# callers are where values become SQL, and they are judged at their own SQL).
_SQL_TEXT_NAME = re.compile(
    r"(?i)(^|_)(sql|query|clause|conditions?|where|fragment|statement|stmt|subquery|expr"
    r"|expression|filters?|order_by|orderby)$"
    r"|(Sql|Query|Clause|Conditions?|Where|Fragment|Statement|Stmt|Subquery|Expression|Filters?)$"
)
# What an SQL expression can be part of: the judge looks at the whole concatenation.
_CONCATENATIONS = {"binary_operator", "binary_expression", "concatenated_string"}


@node_judge("sql_interpolation")
def sql_interpolation(ctx: FileContext, node: Node, options: dict[str, Any]) -> str | None:
    flow = file_flow(ctx, node)
    if flow is None:
        return as_matched(options)
    try:
        taints = flow.origin(_whole_expression(node))
    except RecursionError:  # text built too deep to follow: judged as before, by its shape
        return as_matched(options)
    return detail_at_level(_judge(taints), options)


def _judge(taints: Taints) -> Verdict:
    request = sorted(t.name for t in taints if t.source is Source.REQUEST)
    if request:
        return "strong", f"request data `{request[0]}`"
    parameters = [t for t in taints if t.source is Source.PARAMETER]
    as_value = sorted({t.name for t in parameters if t.as_value})
    if as_value:
        return "strong", f"parameter `{as_value[0]}` spliced in as a value"
    spliced = sorted(
        {t.name for t in parameters if not t.as_value and not _SQL_TEXT_NAME.search(t.name)}
    )
    return ("weak", f"parameter `{spliced[0]}`") if spliced else None


def _whole_expression(node: Node) -> Node:
    """The outermost concatenation `node` belongs to (`"SELECT " + a + "'"`)."""
    current = node
    parent = current.parent()
    while parent is not None and parent.kind() in _CONCATENATIONS:
        current = parent
        parent = current.parent()
    if parent is not None and parent.kind() == "parenthesized_expression":
        outer = parent.parent()
        if outer is not None and outer.kind() in _CONCATENATIONS:
            return _whole_expression(outer)
    return current
