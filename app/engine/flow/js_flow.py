"""Data flow for JavaScript and TypeScript (tree-sitter's grammars, through ast-grep)."""

from __future__ import annotations

import re

from app.engine.flow.origin import (
    NONE,
    SANITISER,
    Flow,
    Node,
    Piece,
    Scope,
    Slot,
    Source,
    Taint,
    Taints,
    callback_receiver_origin,
    request_only,
    union,
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


class JsFlow(Flow):
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

    def __init__(self, root: Node) -> None:
        super().__init__(root)
        self._exported: set[str] | None = None

    def build_scope(self, function: Node) -> Scope:
        scope = Scope()
        self._parameters(function, scope)
        body = function.field("body")
        if body is None:
            return scope
        for node in body.find_all(_BINDINGS):
            self._bind(node, scope)
        for guard in body.find_all(kind="if_statement"):
            _early_exit_guard(self, guard, scope)
        return scope

    def _parameters(self, function: Node, scope: Scope) -> None:
        single = function.field("parameter")  # x => ...
        parameters = [single] if single is not None else []
        listed = function.field("parameters")
        if listed is not None:
            parameters = [p for p in listed.children() if p.is_named()]
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
                    scope.parameters[name] = frozenset({Taint(Source.PARAMETER, name)})

    def _bind(self, node: Node, scope: Scope) -> None:
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
            arguments = node.field("arguments")
            if receiver is not None and receiver.kind() == "identifier" and arguments is not None:
                for argument in arguments.children():
                    if argument.is_named():
                        scope.bind(receiver.text(), argument)
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
        parameters = [p for p in listed.children() if p.is_named()]
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
        args = [a for a in arguments.children() if a.is_named()]
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
            return _memberships(parent.field("condition"))
        return []

    def evaluate(self, node: Node) -> Taints:
        kind = node.kind()
        if kind in _LITERALS:
            return NONE
        if kind == "identifier":
            return self.resolve(node.text(), node)
        if kind in ("member_expression", "subscript_expression", "call_expression") and (
            _REQUEST.match(node.text())
        ):
            return frozenset({Taint(Source.REQUEST, node.text()[:60])})
        pieces = self.pieces(node)
        if pieces is not None:
            return self.built(pieces)
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
                return frozenset({Taint(Source.STATE, node.text()[:60])})
            return self.origin(target)
        if kind == "subscript_expression":
            return self.origin(node.field("object"))
        if kind == "call_expression":
            return self._call(node)
        if kind == "new_expression":
            arguments = node.field("arguments")
            args = (
                union(self.origin(a) for a in arguments.children() if a.is_named())
                if (arguments is not None)
                else NONE
            )
            constructor = node.field("constructor")
            if constructor is not None and constructor.text() in _COLLECTIONS:
                return args
            return frozenset({Taint(Source.OPAQUE, node.text()[:60])}) | request_only(args)
        if kind == "binary_expression":
            operator = node.field("operator")
            if operator is not None and operator.text() in _LOGICAL:
                return union([self.origin(node.field("left")), self.origin(node.field("right"))])
            return NONE  # arithmetic and comparisons (a `+` with text is handled above)
        if kind == "ternary_expression":
            return union(
                [self.origin(node.field("consequence")), self.origin(node.field("alternative"))]
            )
        if kind == "object":
            return union(
                self.origin(p.field("value") if p.kind() == "pair" else p)
                for p in node.children()
                if p.is_named()
            )
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        callee = node.field("function")
        arguments = node.field("arguments")
        if callee is None or arguments is None:
            return NONE
        if arguments.kind() == "template_string":
            return NONE  # a tagged template (sql`...`): the tag receives the values apart
        args = [a for a in arguments.children() if a.is_named()]
        name = callee.text()
        if callee.kind() == "member_expression":
            method = callee.field("property")
            method_name = method.text() if method is not None else ""
            receiver = callee.field("object")
            if SANITISER.search(method_name):
                return NONE
            if name in _TRANSPARENT:
                return union(self.origin(a) for a in args)
            if (
                method_name in _MAPPING_METHODS
                and args
                and args[0].kind()
                in (
                    "arrow_function",
                    "function_expression",
                    "function",
                )
            ):
                return _returned(self, args[0])
            if method_name in _JOINING_METHODS:
                return union([self.origin(receiver), *(self.origin(a) for a in args)])
            if method_name in _DATA_METHODS:
                return self.origin(receiver)
        elif SANITISER.search(name):
            return NONE
        elif name in _TRANSPARENT:
            return union(self.origin(a) for a in args)
        passed = request_only(union(self.origin(a) for a in args))
        return frozenset({Taint(Source.OPAQUE, name[:60])}) | passed

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "template_string":
            if not any(c.kind() == "template_substitution" for c in node.children()):
                return None
            return _template_pieces(node)
        if kind == "binary_expression":
            operator = node.field("operator")
            left, right = node.field("left"), node.field("right")
            if operator is None or operator.text() != "+" or left is None or right is None:
                return None
            if not (_is_stringish(left) or _is_stringish(right)):
                return None
            return [*self._operand_pieces(left), *self._operand_pieces(right)]
        return None

    def _operand_pieces(self, operand: Node) -> list[Piece]:
        if operand.kind() == "string":
            return [operand.text()[1:-1]]
        if operand.kind() == "template_string":
            return _template_pieces(operand)
        if operand.kind() == "binary_expression":
            nested = self.pieces(operand)
            if nested is not None:
                return nested
        return [Slot(operand)]


_BINDINGS = {
    "rule": {
        "any": [
            {"kind": "variable_declarator"},
            {"kind": "assignment_expression"},
            {"kind": "augmented_assignment_expression"},
            {"kind": "for_in_statement"},
            {
                "kind": "call_expression",
                "has": {
                    "field": "function",
                    "kind": "member_expression",
                    "regex": r"\.(" + "|".join(sorted(_MUTATORS)) + r")$",
                },
            },
        ]
    }
}


def _returned(flow: JsFlow, function: Node) -> Taints:
    """The origin of what a callback returns (`cols.map(c => quoteIdentifier(c))`)."""
    body = function.field("body")
    if body is None:
        return NONE
    if body.kind() != "statement_block":
        return flow.origin(body)
    return union(
        flow.origin(next((c for c in r.children() if c.is_named()), None))
        for r in body.find_all(kind="return_statement")
    )


def _early_exit_guard(flow: JsFlow, statement: Node, scope: Scope) -> None:
    """`if (!ALLOWED.includes(x)) throw ...` (or return / continue): past it, `x` is allowed."""
    body = statement.field("consequence")
    if body is None:
        return
    first = body
    if body.kind() == "statement_block":
        first = next((c for c in body.children() if c.is_named()), None)
    if first is None or first.kind() not in (
        "throw_statement",
        "return_statement",
        "continue_statement",
        "break_statement",
    ):
        return
    condition = statement.field("condition")
    checked = _negated_membership(condition)
    if checked is not None and flow.guard_is_constant(checked[1]):
        scope.guarded.add(checked[0])


def _negated_membership(condition: Node | None) -> tuple[str, Node] | None:
    """(`x`, `ALLOWED`) for `!ALLOWED.includes(x)` / `!ALLOWED.has(x)`."""
    if condition is None:
        return None
    inner = condition
    while inner.kind() == "parenthesized_expression":
        child = next((c for c in inner.children() if c.is_named()), None)
        if child is None:
            return None
        inner = child
    if inner.kind() != "unary_expression" or not inner.text().startswith("!"):
        return None
    call = next((c for c in inner.children() if c.is_named()), None)
    return _membership_call(call)


def _memberships(condition: Node | None) -> list[tuple[str, Node]]:
    """The (value, collection) pairs a condition checks, `&&` conjunctions included:
    `SET.has(x)`, `LIST.includes(x)`."""
    if condition is None:
        return []
    kind = condition.kind()
    if kind == "parenthesized_expression":
        return [m for c in condition.children() if c.is_named() for m in _memberships(c)]
    if kind == "binary_expression":
        operator = condition.field("operator")
        if operator is None or operator.text() != "&&":
            return []
        return [*_memberships(condition.field("left")), *_memberships(condition.field("right"))]
    found = _membership_call(condition)
    return [found] if found is not None else []


def _membership_call(call: Node | None) -> tuple[str, Node] | None:
    if call is None or call.kind() != "call_expression":
        return None
    callee = call.field("function")
    arguments = call.field("arguments")
    if callee is None or arguments is None or callee.kind() != "member_expression":
        return None
    method = callee.field("property")
    collection = callee.field("object")
    args = [a for a in arguments.children() if a.is_named()]
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


def _is_stringish(node: Node) -> bool:
    return node.kind() in ("string", "template_string") or (
        node.kind() == "binary_expression"
        and node.field("operator") is not None
        and node.field("operator").text() == "+"
        and (_is_stringish(node.field("left")) or _is_stringish(node.field("right")))
    )


def _template_pieces(node: Node) -> list[Piece]:
    out: list[Piece] = []
    for child in node.children():
        kind = child.kind()
        if kind == "template_substitution":
            expression = next((c for c in child.children() if c.is_named()), None)
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
