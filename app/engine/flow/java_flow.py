"""Data flow for Java (tree-sitter's grammar, through ast-grep)."""

from __future__ import annotations

import re

from app.engine.flow.grammar_flow import GrammarFlow, bind_arguments
from app.engine.flow.origin import (
    NONE,
    SANITISER,
    Node,
    Piece,
    Scope,
    Source,
    Taints,
    named_children,
    tainted,
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


class JavaFlow(GrammarFlow):
    FUNCTIONS = frozenset({"method_declaration", "constructor_declaration", "lambda_expression"})
    CONSTANTS = _LITERALS
    REQUEST = _REQUEST
    READS_REQUEST = frozenset({"method_invocation"})
    BINDINGS = _BINDINGS
    STRINGS = frozenset({"string_literal", "text_block"})

    def bind_parameters(self, function: Node, scope: Scope) -> None:
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
                    scope.parameters[name.text()] = tainted(Source.REQUEST, name.text())
                else:
                    scope.parameters[name.text()] = tainted(Source.PARAMETER, name.text())

    def bind(self, node: Node, scope: Scope) -> None:
        kind = node.kind()
        if kind == "variable_declarator":
            target, value = node.field("name"), node.field("value")
        elif kind == "assignment_expression":
            target, value = node.field("left"), node.field("right")
        elif kind == "enhanced_for_statement":
            target, value = node.field("name"), node.field("value")
        else:  # list.add(x), sb.append(x)
            bind_arguments(scope, node.field("object"), node.field("arguments"))
            return
        if target is not None and value is not None and target.kind() == "identifier":
            scope.bind(target.text(), value)

    def evaluate_by_kind(self, node: Node) -> Taints:
        kind = node.kind()
        if kind == "field_access":
            target = node.field("object")
            if target is not None and target.kind() == "this":
                return tainted(Source.STATE, node.text()[:60])
            return self.origin(target)
        if kind == "array_access":
            return self.origin(node.field("array"))
        if kind == "method_invocation":
            return self._call(node)
        if kind == "object_creation_expression":
            return tainted(Source.OPAQUE, node.text()[:60])
        if kind == "binary_expression":
            return NONE  # arithmetic and comparisons (a `+` with text is handled above)
        if kind == "ternary_expression":
            return self.origins([node.field("consequence"), node.field("alternative")])
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        receiver = node.field("object")
        method = node.field("name")
        args = named_children(node.field("arguments"))
        method_name = method.text() if method is not None else ""
        qualified = f"{receiver.text()}.{method_name}" if receiver is not None else method_name
        if SANITISER.search(method_name):
            return NONE
        if qualified in _TRANSPARENT:
            return self.origins(args)
        if receiver is not None and method_name in _JOINING_METHODS:
            return self.origins([receiver, *args])
        if receiver is not None and method_name in _DATA_METHODS:
            return self.origin(receiver)
        return self.opaque_call(qualified[:60], args)

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "method_invocation":
            receiver = node.field("object")
            method = node.field("name")
            arguments = node.field("arguments")
            if receiver is None or method is None or arguments is None:
                return None
            args = named_children(arguments)
            if (
                receiver.text() == "String"
                and method.text() == "format"
                and args
                and args[0].kind() in self.STRINGS
            ):
                return printf_slots(self.literal_text(args[0]), args[1:])
            if method.text() == "formatted" and receiver.kind() in self.STRINGS:
                return printf_slots(self.literal_text(receiver), args)
            return None
        if kind == "binary_expression":
            return self.concatenation_pieces(node)
        return None

    def literal_text(self, literal: Node) -> str:
        text: str = literal.text()
        if text.startswith('"""'):
            return text[3:-3]
        return text[1:-1]


def _lambda_origin(flow: JavaFlow, function: Node) -> Taints:
    arguments = function.parent()
    call = arguments.parent() if arguments is not None else None
    if call is None or call.kind() != "method_invocation":
        return NONE
    receiver = call.field("object")
    return flow.origin(receiver) if receiver is not None else NONE
