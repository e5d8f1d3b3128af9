"""Data flow for Go (tree-sitter's grammar, through ast-grep)."""

from __future__ import annotations

import re

from app.engine.flow.grammar_flow import GrammarFlow
from app.engine.flow.origin import (
    NONE,
    SANITISER,
    Node,
    Piece,
    Scope,
    Source,
    Taints,
    callback_receiver_origin,
    named_children,
    tainted,
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
_PRINTF_CALLS = {"fmt.Sprintf", "fmt.Errorf"}
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


class GoFlow(GrammarFlow):
    FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
    CONSTANTS = _LITERALS
    REQUEST = _REQUEST
    READS_REQUEST = frozenset({"selector_expression", "call_expression", "index_expression"})
    BINDINGS = _BINDINGS
    STRINGS = frozenset({"interpreted_string_literal", "raw_string_literal"})

    def bind_parameters(self, function: Node, scope: Scope) -> None:
        callback = function.parent() is not None and function.parent().kind() == "argument_list"
        derived = callback_receiver_origin(self, function, _CALLS) if callback else NONE
        receiver = function.field("receiver")
        if receiver is not None:  # func (s *Store) ...: s is the object
            for declaration in receiver.find_all(kind="parameter_declaration"):
                for name in _names_listed(declaration):
                    scope.parameters[name] = tainted(Source.STATE, name)
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
                for name in _names_listed(declaration):
                    if callback:
                        scope.parameters[name] = derived
                    elif safe:
                        scope.parameters[name] = NONE
                    else:
                        scope.parameters[name] = tainted(Source.PARAMETER, name)

    def bind(self, node: Node, scope: Scope) -> None:
        if node.kind() == "var_spec":
            value = node.field("value")
            names = _names_listed(node)
            values = named_children(value)
        else:
            left, right = node.field("left"), node.field("right")
            if left is None or right is None:
                return
            names = [left.text()] if left.kind() == "identifier" else _names_listed(left)
            values = named_children(right) if right.kind() == "expression_list" else [right]
        if len(values) == len(names):
            for name, value in zip(names, values, strict=True):
                scope.bind(name, value)
        else:  # a, err := f(x); for k, v := range xs
            for name in names:
                for value in values:
                    scope.bind(name, value)

    def evaluate_by_kind(self, node: Node) -> Taints:
        kind = node.kind()
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
        args = named_children(node.field("arguments"))
        if callee is None:
            return NONE
        name = callee.text()
        last = name.rsplit(".", 1)[-1]
        if SANITISER.search(last) or SANITISER.search(name):
            return NONE
        if name in _TRANSPARENT:
            return self.origins(args)
        if callee.kind() == "selector_expression" and last in _DATA_METHODS:
            return self.origin(callee.field("operand"))
        return self.opaque_call(name[:60], args)

    def pieces(self, node: Node) -> list[Piece] | None:
        kind = node.kind()
        if kind == "call_expression":
            callee = node.field("function")
            arguments = node.field("arguments")
            if callee is None or arguments is None or callee.text() not in _PRINTF_CALLS:
                return None
            args = named_children(arguments)
            if not args or args[0].kind() not in self.STRINGS:
                return None
            return printf_slots(self.literal_text(args[0]), args[1:])
        if kind == "binary_expression":
            return self.concatenation_pieces(node)
        return None


def _names_listed(node: Node) -> list[str]:
    """The names `node` lists: a declaration's (`a, b int`), an assignment's (`a, b :=`)."""
    return [c.text() for c in node.children() if c.kind() == "identifier"]
