"""Data flow for JavaScript and TypeScript (tree-sitter's grammars, through ast-grep)."""

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
    Slot,
    Source,
    Taints,
    callback_receiver_origin,
    first_named_child,
    named_children,
    tainted,
    words,
)

# Request data in Express, Koa, Fastify, Next.js, Hono.
_REQUEST = re.compile(
    r"^(req|request|ctx\.request|ctx|c\.req)\.(query|body|params|headers|cookies|param|json"
    r"|formData|searchParams|nextUrl\.searchParams|raw)\b|^searchParams\.get\("
)
_REQUEST_OBJECTS = {"req", "request", "res", "response", "reply", "ctx", "next"}
_SAFE_TYPE = re.compile(
    r"^:\s*(number|boolean|bigint|Date|(\s*\|?\s*('[^']*'|\"[^\"]*\"|\d+|null|undefined))+)\s*$"
)
_TRANSPARENT = words(
    "String Object.keys Object.values Object.entries Array.from Array.of decodeURIComponent "
    "decodeURI JSON.parse"
)
_DATA_METHODS = words(
    "get getAll at find filter slice sort reverse flat keys values entries trim trimStart "
    "trimEnd toLowerCase toUpperCase toString substring substr split padStart padEnd "
    "normalize repeat toLocaleLowerCase toLocaleUpperCase valueOf pop shift"
)
_JOINING_METHODS = {"join", "concat", "replace", "replaceAll"}
_MAPPING_METHODS = {"map", "flatMap"}
_TESTS = r"\.(includes|has)$"
_COLLECTIONS = {"Set", "Map", "Array", "String"}
_MUTATORS = {"push", "unshift", "add", "set"}
_LITERALS = words(
    "number true false null undefined regex arrow_function function_expression function "
    "unary_expression string"
)
_INNER = words(
    "parenthesized_expression await_expression as_expression satisfies_expression "
    "non_null_expression type_assertion spread_element"
)
_LOGICAL = {"||", "&&", "??"}
_CALLS = frozenset({"call_expression", "new_expression"})
_FUNCTION_VALUES = {"arrow_function", "function_expression", "function"}
_BINDINGS = {
    "rule": {
        "any": [
            {"kind": "variable_declarator"},
            {"kind": "assignment_expression"},
            {"kind": "augmented_assignment_expression"},
            {"kind": "for_in_statement"},
            method_call_rule("call_expression", "member_expression", _MUTATORS),
        ]
    }
}


class JsFlow(GrammarFlow):
    FUNCTIONS = frozenset(
        {
            "function_declaration",
            "function_expression",
            "function",
            "arrow_function",
            "method_definition",
            "generator_function_declaration",
            "generator_function",
        }
    )
    CONSTANTS = _LITERALS
    REQUEST = _REQUEST
    READS_REQUEST = frozenset({"member_expression", "subscript_expression", "call_expression"})
    BINDINGS = _BINDINGS
    STRINGS = frozenset({"string", "template_string"})
    EARLY_EXITS = frozenset(
        {"throw_statement", "return_statement", "continue_statement", "break_statement"}
    )

    def __init__(self, root: Node) -> None:
        super().__init__(root)
        self._exported: set[str] | None = None

    def bind_parameters(self, function: Node, scope: Scope) -> None:
        single = function.field("parameter")  # x => ...
        parameters = [single] if single is not None else []
        listed = function.field("parameters")
        if listed is not None:
            parameters = named_children(listed)
        callback = function.parent() is not None and function.parent().kind() == "arguments"
        derived = callback_receiver_origin(self, function, _CALLS) if callback else NONE
        for parameter in parameters:
            pattern = parameter.field("pattern") or parameter
            if pattern.kind() == "assignment_pattern":
                pattern = pattern.field("left") or pattern
            annotation = parameter.field("type")
            safe = annotation is not None and _SAFE_TYPE.match(annotation.text())
            for name in _pattern_names(pattern):
                if callback:
                    scope.parameters[name] = derived
                elif name in _REQUEST_OBJECTS or safe:
                    scope.parameters[name] = NONE
                else:
                    scope.parameters[name] = tainted(Source.PARAMETER, name)

    def bind(self, node: Node, scope: Scope) -> None:
        kind = node.kind()
        if kind == "variable_declarator":
            target, value = node.field("name"), node.field("value")
        elif kind in (
            "assignment_expression",
            "augmented_assignment_expression",
            "for_in_statement",
        ):
            target, value = node.field("left"), node.field("right")
        else:  # values.push(x)
            callee = node.field("function")
            receiver = callee.field("object") if callee is not None else None
            bind_arguments(scope, receiver, node.field("arguments"))
            return
        if target is None or value is None:
            return
        for name in _pattern_names(target):
            scope.bind(name, value)

    def calls_in_file(self, function: Node) -> list[Node]:
        if self._exported is None:
            self._exported = _exported_names(self.root.text())
        called = _private_name(function, self._exported)
        return [] if called is None else self.calls_named(called, f"this.{called}")

    def argument_for(self, function: Node, call: Node, name: str) -> Node | None:
        listed = function.field("parameters")
        if listed is None:
            return None
        parameters = named_children(listed)
        index = next(
            (
                i
                for i, p in enumerate(parameters)
                if name in _pattern_names(p.field("pattern") or p)
            ),
            None,
        )
        arguments = call.field("arguments")
        if index is None or arguments is None:
            return None
        args = named_children(arguments)
        if index >= len(args) or any(a.kind() == "spread_element" for a in args[: index + 1]):
            return None
        return args[index]

    def checked_values(self) -> set[str]:
        tests = self.root.find_all(
            {"rule": {"kind": "call_expression", "has": {"field": "function", "regex": _TESTS}}}
        )
        return {found[0] for found in map(_membership_call, tests) if found is not None}

    def memberships_guarding(self, parent: Node, child: Node) -> list[tuple[str, Node]]:
        if (
            parent.kind() in ("if_statement", "ternary_expression")
            and parent.field("consequence") == child
        ):
            return self.memberships(parent.field("condition"))
        return []

    def membership(self, test: Node) -> Membership | None:
        return _membership_call(test)

    def negated_membership(self, condition: Node | None) -> Membership | None:
        return _negated_membership(condition)

    def evaluate_by_kind(self, node: Node) -> Taints:
        kind = node.kind()
        if kind == "template_string":
            return NONE
        if kind in _INNER:
            return self.union_of_children(node)
        if kind == "member_expression":
            target = node.field("object")
            prop = node.field("property")
            if prop is not None and prop.text() == "length":
                return NONE
            if self.is_guarded(node.text(), node):
                return NONE
            if target is not None and target.kind() == "this":
                return tainted(Source.STATE, node.text()[:60])
            return self.origin(target)
        if kind == "subscript_expression":
            return self.origin(node.field("object"))
        if kind == "call_expression":
            return self._call(node)
        if kind == "new_expression":
            arguments = named_children(node.field("arguments"))
            constructor = node.field("constructor")
            if constructor is not None and constructor.text() in _COLLECTIONS:
                return self.origins(arguments)
            return self.opaque_call(node.text()[:60], arguments)
        if kind == "binary_expression":
            operator = node.field("operator")
            if operator is not None and operator.text() in _LOGICAL:
                return self.origins([node.field("left"), node.field("right")])
            return NONE  # arithmetic and comparisons (a `+` with text is handled above)
        if kind == "ternary_expression":
            return self.origins([node.field("consequence"), node.field("alternative")])
        if kind == "object":
            return self.origins(
                p.field("value") if p.kind() == "pair" else p for p in named_children(node)
            )
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        callee = node.field("function")
        arguments = node.field("arguments")
        if callee is None or arguments is None:
            return NONE
        if arguments.kind() == "template_string":
            return NONE  # a tagged template (sql`...`): the tag receives the values apart
        args = named_children(arguments)
        name = callee.text()
        if callee.kind() == "member_expression":
            method = callee.field("property")
            method_name = method.text() if method is not None else ""
            receiver = callee.field("object")
            if SANITISER.search(method_name):
                return NONE
            if name in _TRANSPARENT:
                return self.origins(args)
            if method_name in _MAPPING_METHODS and args and args[0].kind() in _FUNCTION_VALUES:
                return _returned(self, args[0])
            if method_name in _JOINING_METHODS:
                return self.origins([receiver, *args])
            if method_name in _DATA_METHODS:
                return self.origin(receiver)
        elif SANITISER.search(name):
            return NONE
        elif name in _TRANSPARENT:
            return self.origins(args)
        return self.opaque_call(name[:60], args)

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "template_string":
            if not any(c.kind() == "template_substitution" for c in node.children()):
                return None
            return _template_pieces(node)
        if kind == "binary_expression":
            return self.concatenation_pieces(node)
        return None

    def literal_pieces(self, node: Node) -> list[Piece] | None:
        if node.kind() == "template_string":
            return _template_pieces(node)
        return super().literal_pieces(node)


def _returned(flow: JsFlow, function: Node) -> Taints:
    """The origin of what a callback returns (`cols.map(c => quoteIdentifier(c))`)."""
    body = function.field("body")
    if body is None:
        return NONE
    if body.kind() != "statement_block":
        return flow.origin(body)
    return flow.origins(first_named_child(r) for r in body.find_all(kind="return_statement"))


def _negated_membership(condition: Node | None) -> tuple[str, Node] | None:
    """(`x`, `ALLOWED`) for `!ALLOWED.includes(x)` / `!ALLOWED.has(x)`."""
    if condition is None:
        return None
    inner = condition
    while inner.kind() == "parenthesized_expression":
        child = first_named_child(inner)
        if child is None:
            return None
        inner = child
    if inner.kind() != "unary_expression" or not inner.text().startswith("!"):
        return None
    return _membership_call(first_named_child(inner))


def _membership_call(call: Node | None) -> tuple[str, Node] | None:
    if call is None or call.kind() != "call_expression":
        return None
    callee = call.field("function")
    arguments = call.field("arguments")
    if callee is None or arguments is None or callee.kind() != "member_expression":
        return None
    method = callee.field("property")
    collection = callee.field("object")
    args = named_children(arguments)
    if method is None or collection is None or len(args) != 1:
        return None
    if method.text() not in ("includes", "has"):
        return None
    return args[0].text(), collection


def _pattern_names(pattern: Node) -> list[str]:
    kind = pattern.kind()
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        return [pattern.text()]
    if kind in (
        "object_pattern",
        "array_pattern",
        "rest_pattern",
        "assignment_pattern",
        "pair_pattern",
    ):
        names = [
            n.text()
            for n in pattern.find_all(
                {
                    "rule": {
                        "any": [
                            {
                                "kind": "identifier",
                                "not": {"inside": {"kind": "pair_pattern", "field": "key"}},
                            },
                            {"kind": "shorthand_property_identifier_pattern"},
                        ]
                    }
                }
            )
        ]
        return names
    return []


def _template_pieces(node: Node) -> list[Piece]:
    out: list[Piece] = []
    for child in node.children():
        kind = child.kind()
        if kind == "template_substitution":
            expression = first_named_child(child)
            if expression is not None:
                out.append(Slot(expression))
        elif kind != "`":
            out.append(child.text())
    return out


def _private_name(function: Node, exported: set[str]) -> str | None:
    """The name a function is called by when only this file can call it: a function declared
    without `export` (and not exported by name), a `private` or `#` method; else None."""
    kind = function.kind()
    holder = function.parent()
    if kind == "method_definition":
        name = function.field("name")
        private = any(
            c.kind() == "accessibility_modifier" and c.text() == "private"
            for c in function.children()
        )
        if name is not None and (private or name.kind() == "private_property_identifier"):
            return str(name.text())
        return None
    if kind == "function_declaration":
        name = function.field("name")
    elif kind == "arrow_function" and holder is not None and holder.kind() == "variable_declarator":
        name = holder.field("name")
        holder = holder.parent()  # the declaration
    else:
        return None
    if name is None or name.kind() != "identifier" or holder is None:
        return None
    if holder.parent() is not None and holder.parent().kind() == "export_statement":
        return None
    if holder.kind() == "export_statement":
        return None
    text = str(name.text())
    return None if text in exported else text


_EXPORTS = re.compile(
    r"\bexport\s*\{[^}]*\}|\bexport\s+default\s+\w+|\bmodule\.exports\b[^;]*|\bexports\.\w+"
)


def _exported_names(source: str) -> set[str]:
    """The names the module exports by name (`export { a, b as c }`, `export default a`,
    `module.exports = { a }`, `exports.a = ...`): over-approximated as every word there."""
    return {word for m in _EXPORTS.finditer(source) for word in re.findall(r"\w+", m.group(0))}
