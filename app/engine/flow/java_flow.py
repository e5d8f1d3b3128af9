"""Data flow for Java (tree-sitter's grammar, through ast-grep)."""

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
    request_only,
    union,
    words,
)
from app.engine.flow.string_formats import printf_slots

_REQUEST = re.compile(
    r"^(request|req|httpRequest|servletRequest)\.(getParameter|getParameterValues|getHeader"
    r"|getQueryString|getCookies|getPathInfo|getRequestURI|getInputStream|getReader)\("
)
# Spring MVC binds these parameters from the request.
_REQUEST_ANNOTATION = re.compile(
    r"@(RequestParam|PathVariable|RequestBody|RequestHeader|CookieValue|ModelAttribute"
    r"|MatrixVariable|RequestPart)\b"
)
_SAFE_TYPE = re.compile(
    r"^(int|long|short|byte|double|float|boolean|char|Integer|Long|Short|Byte|Double|Float"
    r"|Boolean|UUID|BigDecimal|BigInteger|LocalDate|LocalDateTime|Instant|OffsetDateTime"
    r"|ZonedDateTime|Date)$"
)
_TRANSPARENT = words("String.valueOf String.join Arrays.asList List.of Set.of Objects.toString")
_DATA_METHODS = words(
    "get getOrDefault trim strip toLowerCase toUpperCase substring toString split orElse "
    "getFirst values keySet"
)
_JOINING_METHODS = {"concat", "replace", "replaceAll", "append", "join"}
_MUTATORS = {"add", "append", "put", "addAll", "insert"}
_LITERALS = words(
    "string_literal text_block decimal_integer_literal hex_integer_literal "
    "decimal_floating_point_literal true false null_literal character_literal "
    "lambda_expression unary_expression class_literal"
)


class JavaFlow(Flow):
    FUNCTIONS = frozenset({"method_declaration", "constructor_declaration", "lambda_expression"})

    def build_scope(self, function: Node) -> Scope:
        scope = Scope()
        parameters = function.field("parameters")
        if function.kind() == "lambda_expression":
            derived = _lambda_origin(self, function)
            if parameters is not None:
                names = (
                    [parameters.text()]
                    if parameters.kind() == "identifier"
                    else [n.text() for n in parameters.find_all(kind="identifier")]
                )
                for name in names:
                    scope.parameters[name] = derived
        elif parameters is not None:
            for parameter in parameters.children():
                if parameter.kind() not in ("formal_parameter", "spread_parameter"):
                    continue
                name = parameter.field("name")
                if name is None:
                    name = next((c for c in parameter.children() if c.kind() == "identifier"), None)
                if name is None:
                    continue
                kind = parameter.field("type")
                if kind is not None and _SAFE_TYPE.match(kind.text()):
                    scope.parameters[name.text()] = NONE
                elif _REQUEST_ANNOTATION.search(parameter.text()):
                    scope.parameters[name.text()] = frozenset({Taint(Source.REQUEST, name.text())})
                else:
                    scope.parameters[name.text()] = frozenset(
                        {Taint(Source.PARAMETER, name.text())}
                    )
        body = function.field("body")
        if body is not None:
            for node in body.find_all(_BINDINGS):
                self._bind(node, scope)
        return scope

    def _bind(self, node: Node, scope: Scope) -> None:
        kind = node.kind()
        if kind == "variable_declarator":
            target, value = node.field("name"), node.field("value")
        elif kind == "assignment_expression":
            target, value = node.field("left"), node.field("right")
        elif kind == "enhanced_for_statement":
            target, value = node.field("name"), node.field("value")
        else:  # list.add(x), sb.append(x)
            receiver = node.field("object")
            arguments = node.field("arguments")
            if receiver is not None and receiver.kind() == "identifier" and arguments is not None:
                for argument in arguments.children():
                    if argument.is_named():
                        scope.bind(receiver.text(), argument)
            return
        if target is not None and value is not None and target.kind() == "identifier":
            scope.bind(target.text(), value)

    def evaluate(self, node: Node) -> Taints:
        kind = node.kind()
        if kind in _LITERALS:
            return NONE
        if kind == "identifier":
            return self.resolve(node.text(), node)
        if kind == "method_invocation" and _REQUEST.match(node.text()):
            return frozenset({Taint(Source.REQUEST, node.text()[:60])})
        pieces = self.pieces(node)
        if pieces is not None:
            return self.built(pieces)
        if kind == "field_access":
            target = node.field("object")
            if target is not None and target.kind() == "this":
                return frozenset({Taint(Source.STATE, node.text()[:60])})
            return self.origin(target)
        if kind == "array_access":
            return self.origin(node.field("array"))
        if kind == "method_invocation":
            return self._call(node)
        if kind == "object_creation_expression":
            return frozenset({Taint(Source.OPAQUE, node.text()[:60])})
        if kind == "binary_expression":
            return NONE  # arithmetic and comparisons (a `+` with text is handled above)
        if kind == "ternary_expression":
            return union(
                [self.origin(node.field("consequence")), self.origin(node.field("alternative"))]
            )
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        receiver = node.field("object")
        method = node.field("name")
        arguments = node.field("arguments")
        args = [a for a in arguments.children() if a.is_named()] if arguments is not None else []
        method_name = method.text() if method is not None else ""
        qualified = f"{receiver.text()}.{method_name}" if receiver is not None else method_name
        if SANITISER.search(method_name):
            return NONE
        if qualified in _TRANSPARENT:
            return union(self.origin(a) for a in args)
        if receiver is not None and method_name in _JOINING_METHODS:
            return union([self.origin(receiver), *(self.origin(a) for a in args)])
        if receiver is not None and method_name in _DATA_METHODS:
            return self.origin(receiver)
        passed = request_only(union(self.origin(a) for a in args))
        return frozenset({Taint(Source.OPAQUE, qualified[:60])}) | passed

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "method_invocation":
            receiver = node.field("object")
            method = node.field("name")
            arguments = node.field("arguments")
            if receiver is None or method is None or arguments is None:
                return None
            args = [a for a in arguments.children() if a.is_named()]
            if (
                receiver.text() == "String"
                and method.text() == "format"
                and args
                and args[0].kind() in _STRINGS
            ):
                return printf_slots(_literal_text(args[0]), args[1:])
            if method.text() == "formatted" and receiver.kind() in _STRINGS:
                return printf_slots(_literal_text(receiver), args)
            return None
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
        if operand.kind() in _STRINGS:
            return [_literal_text(operand)]
        if operand.kind() == "binary_expression":
            nested = self.pieces(operand)
            if nested is not None:
                return nested
        return [Slot(operand)]


_STRINGS = {"string_literal", "text_block"}
_BINDINGS = {
    "rule": {
        "any": [
            {"kind": "variable_declarator"},
            {"kind": "assignment_expression"},
            {"kind": "enhanced_for_statement"},
            {
                "kind": "method_invocation",
                "has": {"field": "name", "regex": "^(" + "|".join(sorted(_MUTATORS)) + ")$"},
            },
        ]
    }
}


def _lambda_origin(flow: JavaFlow, function: Node) -> Taints:
    arguments = function.parent()
    call = arguments.parent() if arguments is not None else None
    if call is None or call.kind() != "method_invocation":
        return NONE
    receiver = call.field("object")
    return flow.origin(receiver) if receiver is not None else NONE


def _literal_text(node: Node) -> str:
    text: str = node.text()
    if text.startswith('"""'):
        return text[3:-3]
    return text[1:-1]


def _is_stringish(node: Node | None) -> bool:
    if node is None:
        return False
    if node.kind() in _STRINGS:
        return True
    operator = node.field("operator")
    return (
        node.kind() == "binary_expression"
        and operator is not None
        and operator.text() == "+"
        and (_is_stringish(node.field("left")) or _is_stringish(node.field("right")))
    )
