"""Data flow for Go (tree-sitter's grammar, through ast-grep)."""

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
from app.engine.flow.string_formats import printf_slots

# Request data in net/http, gin, echo, fiber, chi, gorilla/mux.
_REQUEST = re.compile(
    r"^(r|req|request)\.(URL\.Query\(\)|URL\.Path|URL\.RawQuery|FormValue\(|PostFormValue\(|Form\b"
    r"|PostForm\b|Header\.Get\(|Body\b|PathValue\()"
    r"|^(c|ctx)\.(Query|DefaultQuery|GetQuery|QueryArray|Param|Params|PostForm|DefaultPostForm"
    r"|FormValue|QueryParam|QueryParams|GetHeader|Cookie|Body|BodyParser)\("
    r"|^(mux\.Vars|chi\.URLParam)\("
)
_SAFE_TYPE = re.compile(
    r"^(u?int(8|16|32|64)?|float(32|64)|bool|time\.Time|time\.Duration|uuid\.UUID|byte|rune"
    r"|\*?http\.Request|\*?gin\.Context|echo\.Context|\*?fiber\.Ctx|http\.ResponseWriter"
    r"|context\.Context)$"
)
_TRANSPARENT = words(
    "append string fmt.Sprint fmt.Sprintln strings.Join strings.TrimSpace strings.ToLower "
    "strings.ToUpper strings.Trim strings.TrimPrefix strings.TrimSuffix strings.Replace "
    "strings.ReplaceAll strings.Split strings.Fields url.QueryUnescape url.PathUnescape"
)
_DATA_METHODS = {"Get", "Values", "String", "Value"}
_LITERALS = words(
    "interpreted_string_literal raw_string_literal int_literal float_literal true false nil "
    "iota rune_literal func_literal unary_expression"
)
_CALLS = frozenset({"call_expression"})


class GoFlow(Flow):
    FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})

    def build_scope(self, function: Node) -> Scope:
        scope = Scope()
        callback = function.parent() is not None and function.parent().kind() == "argument_list"
        derived = callback_receiver_origin(self, function, _CALLS) if callback else NONE
        receiver = function.field("receiver")
        if receiver is not None:  # func (s *Store) ...: s is the object
            for declaration in receiver.find_all(kind="parameter_declaration"):
                for name in _declared_names(declaration):
                    scope.parameters[name] = frozenset({Taint(Source.STATE, name)})
        parameters = function.field("parameters")
        if parameters is not None:
            for declaration in parameters.children():
                if declaration.kind() not in (
                    "parameter_declaration",
                    "variadic_parameter_declaration",
                ):
                    continue
                kind = declaration.field("type")
                safe = kind is not None and _SAFE_TYPE.match(kind.text())
                for name in _declared_names(declaration):
                    if callback:
                        scope.parameters[name] = derived
                    elif safe:
                        scope.parameters[name] = NONE
                    else:
                        scope.parameters[name] = frozenset({Taint(Source.PARAMETER, name)})
        body = function.field("body")
        if body is not None:
            for node in body.find_all(_BINDINGS):
                self._bind(node, scope)
        return scope

    def _bind(self, node: Node, scope: Scope) -> None:
        if node.kind() == "var_spec":
            value = node.field("value")
            names = [c.text() for c in node.children() if c.kind() == "identifier"]
            values = [c for c in value.children() if c.is_named()] if value is not None else []
        else:
            left, right = node.field("left"), node.field("right")
            if left is None or right is None:
                return
            names = [c.text() for c in left.children() if c.kind() == "identifier"]
            if left.kind() == "identifier":
                names = [left.text()]
            values = [c for c in right.children() if c.is_named()]
            if right.kind() != "expression_list":
                values = [right]
        if len(values) == len(names):
            for name, value in zip(names, values, strict=True):
                scope.bind(name, value)
        else:  # a, err := f(x); for k, v := range xs
            for name in names:
                for value in values:
                    scope.bind(name, value)

    def evaluate(self, node: Node) -> Taints:
        kind = node.kind()
        if kind in _LITERALS:
            return NONE
        if kind == "identifier":
            return self.resolve(node.text(), node)
        if kind in ("selector_expression", "call_expression", "index_expression") and (
            _REQUEST.match(node.text())
        ):
            return frozenset({Taint(Source.REQUEST, node.text()[:60])})
        pieces = self.pieces(node)
        if pieces is not None:
            return self.built(pieces)
        if kind == "selector_expression":
            return self.origin(node.field("operand"))
        if kind == "index_expression":
            return self.origin(node.field("operand"))
        if kind == "call_expression":
            return self._call(node)
        if kind == "binary_expression":
            return NONE  # arithmetic, comparisons, booleans (a `+` with text is handled above)
        return self.union_of_children(node)

    def _call(self, node: Node) -> Taints:
        callee = node.field("function")
        arguments = node.field("arguments")
        args = [a for a in arguments.children() if a.is_named()] if arguments is not None else []
        if callee is None:
            return NONE
        name = callee.text()
        last = name.rsplit(".", 1)[-1]
        if SANITISER.search(last) or SANITISER.search(name):
            return NONE
        if name in _TRANSPARENT:
            return union(self.origin(a) for a in args)
        if callee.kind() == "selector_expression" and last in _DATA_METHODS:
            return self.origin(callee.field("operand"))
        passed = request_only(union(self.origin(a) for a in args))
        return frozenset({Taint(Source.OPAQUE, name[:60])}) | passed

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "call_expression":
            callee = node.field("function")
            arguments = node.field("arguments")
            if (
                callee is None
                or arguments is None
                or callee.text()
                not in (
                    "fmt.Sprintf",
                    "fmt.Errorf",
                )
            ):
                return None
            args = [a for a in arguments.children() if a.is_named()]
            if not args or args[0].kind() not in _STRINGS:
                return None
            return printf_slots(_literal_text(args[0]), args[1:])
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


_STRINGS = {"interpreted_string_literal", "raw_string_literal"}
_BINDINGS = {
    "rule": {
        "any": [
            {"kind": "short_var_declaration"},
            {"kind": "assignment_statement"},
            {"kind": "var_spec"},
            {"kind": "range_clause"},
        ]
    }
}


def _declared_names(declaration: Node) -> list[str]:
    return [c.text() for c in declaration.children() if c.kind() == "identifier"]


def _literal_text(node: Node) -> str:
    return str(node.text())[1:-1]


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
