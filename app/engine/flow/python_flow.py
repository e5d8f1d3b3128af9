"""Data flow for Python (tree-sitter's grammar, through ast-grep)."""

from __future__ import annotations

import re

from app.engine.flow.grammar_flow import (
    GrammarFlow,
    Membership,
    bind_arguments,
    method_call_rule,
)
from app.engine.flow.origin import (
    NONE,
    SANITISER,
    Node,
    Piece,
    Scope,
    Source,
    Taints,
    callback_receiver_origin,
    field_text,
    first_named_child,
    named_children,
    tainted,
    words,
)
from app.engine.flow.python_strings import formatted_pieces, is_plain_string, string_text

# Request data in Flask, Django (also `self.request` in class-based views), FastAPI/Starlette,
# aiohttp.
_REQUEST = re.compile(
    r"^(self\.)?request\.(GET|POST|args|form|json|data|values|query_params|path_params|files"
    r"|FILES|cookies|COOKIES|headers|META|body|query_string|get_json|params|match_info|query"
    r"|rel_url|stream|get_data)\b"
)
# A function that serves a route: its parameters (path and query parameters) are request data.
_ROUTE_DECORATOR = re.compile(
    r"^@\s*[\w.]+\.(get|post|put|patch|delete|route|api_route|websocket|head|options)\s*\("
)
_REQUEST_PARAMETER = {"request", "req"}
_SELF = {"self", "cls"}
_SAFE_TYPE = re.compile(
    r"^(Optional\[)?(int|float|bool|UUID|uuid\.UUID|datetime(\.\w+)?|date|time|Decimal"
    r"|Literal\[[^\]]*\])\]?(\s*\|\s*None)?$"
)
# Builtins whose result carries their arguments' data.
_TRANSPARENT = words(
    "str repr list tuple set frozenset sorted reversed dict iter next enumerate zip filter "
    "compile bytes format unquote unquote_plus b64decode urlsafe_b64decode loads"
)
# Methods whose result carries the receiver's data (strings, dicts, lists).
_DATA_METHODS = words(
    "get getlist pop keys values items copy setdefault strip lstrip rstrip lower upper title "
    "capitalize casefold split rsplit splitlines partition rpartition encode decode "
    "removeprefix removesuffix zfill center ljust rjust swapcase expandtabs read readline "
    "readlines get_json dict to_dict model_dump"
)
# ...and their arguments' too.
_JOINING_METHODS = {"join", "format", "format_map", "replace", "translate", "union"}
_MUTATORS = {"append", "extend", "insert", "add", "update", "appendleft", "extendleft"}
_NUMBERS = words(
    "integer float true false none ellipsis comparison_operator not_operator lambda unary_operator"
)
_EXITS = words("raise_statement return_statement continue_statement break_statement")
_ARITHMETIC = {"-", "*", "/", "//", "**", "<<", ">>", "&", "|", "^"}


_BINDINGS = {
    "rule": {
        "any": [
            {"kind": "assignment"},
            {"kind": "augmented_assignment"},
            {"kind": "for_statement"},
            {"kind": "for_in_clause"},
            {"kind": "as_pattern"},
            {"kind": "named_expression"},
            method_call_rule("call", "attribute", _MUTATORS),
        ]
    }
}


class PythonFlow(GrammarFlow):
    FUNCTIONS = frozenset({"function_definition", "lambda"})
    CALL = "call"
    CONSTANTS = _NUMBERS
    REQUEST = _REQUEST
    READS_REQUEST = frozenset({"attribute", "subscript", "call"})
    BINDINGS = _BINDINGS
    STRINGS = frozenset({"string", "concatenated_string"})
    CONCATENATION = "binary_operator"
    EARLY_EXITS = _EXITS
    CONJUNCTION = ("boolean_operator", "and")

    def bind_parameters(self, function: Node, scope: Scope) -> None:
        parameters = function.field("parameters")
        if parameters is None:
            return
        if function.kind() == "lambda":
            derived = callback_receiver_origin(self, function, frozenset({"call"}))
            for identifier in _identifiers(parameters):
                scope.parameters[identifier] = derived
            return
        declared = named_children(parameters)
        serves_route = _serves_route(function, declared)
        for parameter in declared:
            name, annotation = _parameter_name(parameter)
            if name is None:
                continue
            if name in _SELF or name in _REQUEST_PARAMETER:
                scope.parameters[name] = NONE  # the request's data is read through its fields
            elif annotation is not None and _SAFE_TYPE.match(annotation):
                scope.parameters[name] = NONE
            else:
                source = Source.REQUEST if serves_route else Source.PARAMETER
                scope.parameters[name] = tainted(source, name)

    def bind(self, node: Node, scope: Scope) -> None:
        kind = node.kind()
        if kind in ("assignment", "augmented_assignment"):
            target, value = node.field("left"), node.field("right")
            while value is not None and value.kind() == "assignment":
                value = value.field("right")  # a = b = value
            if target is None or value is None:
                return
            if target.kind() == "subscript":  # d[k] = v: d now holds v
                container = target.field("value")
                if container is not None and container.kind() == "identifier":
                    scope.bind(container.text(), value)
                return
            for name in _target_names(target):
                scope.bind(name, value)
        elif kind in ("for_statement", "for_in_clause"):
            target, iterable = node.field("left"), node.field("right")
            if target is not None and iterable is not None:
                for name in _target_names(target):
                    scope.bind(name, iterable)
        elif kind == "as_pattern":
            alias = node.field("alias")
            value = node.child(0)
            if alias is not None and value is not None:
                for name in _identifiers(alias):
                    scope.bind(name, value)
        elif kind == "named_expression":
            name, value = node.field("name"), node.field("value")
            if name is not None and value is not None:
                scope.bind(name.text(), value)
        elif kind == "call":  # items.append(value)
            callee = node.field("function")
            receiver = callee.field("object") if callee is not None else None
            bind_arguments(scope, receiver, node.field("arguments"))

    def calls_in_file(self, function: Node) -> list[Node]:
        name = function.field("name")
        if function.kind() != "function_definition" or name is None:
            return []
        text = name.text()
        nested = self.enclosing_function(function) is not None
        at_module = _defined_at_module_level(function)
        private = text.startswith("_") and not text.endswith("__")
        if not (nested or (at_module and private)):
            return []  # a public function or a method: callers elsewhere
        return self.calls_named(text)

    def argument_for(self, function: Node, call: Node, name: str) -> Node | None:
        parameters = function.field("parameters")
        arguments = call.field("arguments")
        if parameters is None or arguments is None:
            return None
        names = [_parameter_name(p)[0] for p in named_children(parameters)]
        if name not in names:
            return None
        index = names.index(name)
        positional: list[Node] = []
        for argument in named_children(arguments):
            if argument.kind() == "keyword_argument":
                keyword = argument.field("name")
                if keyword is not None and keyword.text() == name:
                    return argument.field("value")
            elif argument.kind() in ("list_splat", "dictionary_splat"):
                return None
            else:
                positional.append(argument)
        return positional[index] if index < len(positional) else None

    def checked_values(self) -> set[str]:
        values = set()
        for test in self.root.find_all(kind="comparison_operator"):
            operators = [c.text() for c in test.children() if not c.is_named()]
            if operators in (["in"], ["not in"]):
                first = first_named_child(test)
                if first is not None:
                    values.add(first.text())
        return values

    def memberships_guarding(self, parent: Node, child: Node) -> list[tuple[str, Node]]:
        if parent.kind() == "if_statement" and parent.field("consequence") == child:
            return self.memberships(parent.field("condition"))
        if parent.kind() == "conditional_expression" and parent.child(0) == child:
            condition = next((c for c in parent.children() if c.is_named() and c != child), None)
            return self.memberships(condition)
        return []

    def membership(self, test: Node) -> Membership | None:
        return _comparison(test, "in")

    def negated_membership(self, condition: Node | None) -> Membership | None:
        return _comparison(condition, "not in")

    def leaves_early(self, statement: Node) -> bool:
        return super().leaves_early(statement) or (
            statement.kind() == "expression_statement" and statement.text().startswith("abort(")
        )

    def evaluate_by_kind(self, node: Node) -> Taints:
        kind = node.kind()
        if kind == "string" or kind == "concatenated_string":
            return NONE
        if kind == "attribute":
            target = node.field("object")
            if target is not None and target.text() in _SELF:
                return tainted(Source.STATE, node.text()[:60])
            if self.is_guarded(node.text(), node):
                return NONE
            return self.origin(target)
        if kind == "subscript":
            return self.origin(node.field("value"))
        if kind == "call":
            return self._call(node)
        if kind == "binary_operator":
            operator = node.field("operator")
            if operator is not None and operator.text() in _ARITHMETIC:
                return NONE
            return self.union_of_children(node)
        if kind in ("list_comprehension", "generator_expression", "set_comprehension"):
            return self.origin(node.field("body") or node.child(1))
        if kind == "dictionary_comprehension":
            body = node.field("body")
            return self.origin(body.field("value") if body is not None else None)
        if kind == "dictionary":
            return self.origins(
                pair.field("value") for pair in node.children() if pair.kind() == "pair"
            )
        if kind == "keyword_argument":
            return self.origin(node.field("value"))
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        callee = node.field("function")
        args = named_children(node.field("arguments"))
        if callee is None:
            return NONE
        if callee.kind() == "identifier":
            name = callee.text()
            if SANITISER.search(name):
                return NONE
            if name in _TRANSPARENT:
                return self.origins(args)
            return self.opaque_call(name, args)
        if callee.kind() == "attribute":
            method = field_text(callee, "attribute")
            receiver = callee.field("object")
            if SANITISER.search(method) or SANITISER.search(callee.text()):
                return NONE
            if method in _JOINING_METHODS:
                return self.origins([receiver, *args])
            if method in _TRANSPARENT:  # urllib.parse.unquote(x), json.loads(x)
                return self.origins(args)
            if method in _DATA_METHODS:
                return self.origin(receiver)
            return self.opaque_call(callee.text()[:60], args)
        return tainted(Source.OPAQUE, callee.text()[:60])

    def pieces(self, node: Node) -> list[Piece] | None:
        formatted = formatted_pieces(node)
        if formatted is not None:
            return formatted
        if node.kind() == "binary_operator":
            return self.concatenation_pieces(node)
        return None

    def is_text(self, node: Node | None) -> bool:
        # any `+` counts, its sides not looked into
        return node is not None and (
            node.kind() in self.STRINGS
            or (node.kind() == "binary_operator" and "+" in field_text(node, "operator"))
        )

    def literal_pieces(self, node: Node) -> list[Piece] | None:
        return [string_text(node)] if is_plain_string(node) else None


def _comparison(test: Node | None, operator: str) -> Membership | None:
    """(`x`, `ALLOWED`) for `x in ALLOWED` (with `operator` "in") or `x not in ALLOWED`."""
    if test is None or test.kind() != "comparison_operator":
        return None
    operands = named_children(test)
    operators = [c.text() for c in test.children() if not c.is_named()]
    if len(operands) == 2 and operators == [operator]:
        return operands[0].text(), operands[1]
    return None


def _defined_at_module_level(function: Node) -> bool:
    holder = function.parent()
    if holder is not None and holder.kind() == "decorated_definition":
        holder = holder.parent()
    return holder is not None and holder.kind() == "module"


def _serves_route(function: Node, parameters: list[Node]) -> bool:
    holder = function.parent()
    if holder is not None and holder.kind() == "decorated_definition":
        for decorator in holder.children():
            if decorator.kind() == "decorator" and _ROUTE_DECORATOR.match(decorator.text()):
                return True
    # a Django view: `def view(request, slug)` / `def get(self, request, pk)`
    names = [_parameter_name(p)[0] for p in parameters[:2]]
    return names[:1] == ["request"] or names == ["self", "request"]


def _parameter_name(parameter: Node) -> tuple[str | None, str | None]:
    kind = parameter.kind()
    if kind == "identifier":
        return parameter.text(), None
    annotation = parameter.field("type")
    name = parameter.field("name")
    if name is None:
        name = next((c for c in parameter.children() if c.kind() == "identifier"), None)
    if name is None:
        return None, None
    return name.text(), annotation.text() if annotation is not None else None


def _target_names(target: Node) -> list[str]:
    if target.kind() == "identifier":
        return [target.text()]
    if target.kind() in (
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "tuple",
        "list",
        "list_splat_pattern",
        "parenthesized_expression",
    ):
        return _identifiers(target)
    return []


def _identifiers(node: Node) -> list[str]:
    if node.kind() == "identifier":
        return [node.text()]
    return [n.text() for n in node.find_all(kind="identifier")]
