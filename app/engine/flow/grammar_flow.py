"""The steps the analyses of the four grammars share. Each language's module supplies what
differs: its node kinds, its strings (request data, safe types, calls that pass data on) and
what binds a name.

- An expression's origin is asked the same way first: a constant kind, a name, an expression
  that reads request data, a string built from pieces; then by the language's own kinds.
- A function's scope is its parameters, then what its body binds (assignments, loops, values
  added to a list), then the names an early exit checks against an allow-list.
- `+` builds text when either side is text: its pieces are both sides', nested `+` flattened.
- A call the analysis does not follow gives an opaque result, carrying the request data passed.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from app.engine.flow.origin import (
    NONE,
    Flow,
    Node,
    Piece,
    Scope,
    Slot,
    Source,
    Taints,
    first_named_child,
    named_children,
    request_only,
    tainted,
    union,
)

Membership = tuple[str, Node]  # (the value's text, the collection it is checked against)


class GrammarFlow(Flow):
    """A Flow over one tree-sitter grammar, told apart from the others by these attributes and
    the methods each language implements."""

    CONSTANTS: frozenset[str] = frozenset()  # kinds whose value holds no outside data
    REQUEST: re.Pattern[str]  # request data as written (`req.query.id`)
    READS_REQUEST: frozenset[str] = frozenset()  # the kinds REQUEST is tried on
    BINDINGS: ClassVar[dict[str, Any]] = {}  # an ast-grep rule: the nodes that bind a name
    STRINGS: frozenset[str] = frozenset()  # the kinds of string literals
    CONCATENATION = "binary_expression"  # the kind of `a + b`
    # The statements that leave a branch early; without any, no allow-list guard is looked for.
    EARLY_EXITS: frozenset[str] = frozenset()
    CONJUNCTION = ("binary_expression", "&&")  # the kind and operator of `a and b`

    # -- origins ---------------------------------------------------------------------------

    def evaluate(self, node: Node) -> Taints:
        """The steps every grammar takes first, then `evaluate_by_kind`."""
        kind = node.kind()
        if kind in self.CONSTANTS:
            return NONE
        if kind == "identifier":
            return self.resolve(node.text(), node)
        if kind in self.READS_REQUEST and self.REQUEST.match(node.text()):
            return tainted(Source.REQUEST, node.text()[:60])
        pieces = self.pieces(node)
        if pieces is not None:
            return self.built(pieces)
        return self.evaluate_by_kind(node)

    @abstractmethod
    def evaluate_by_kind(self, node: Node) -> Taints:
        """The origin of an expression that is no constant, name, request data or built
        string: by the language's kinds."""

    def origins(self, nodes: Iterable[Node]) -> Taints:
        """Where any of `nodes` comes from."""
        return union(self.origin(n) for n in nodes)

    def opaque_call(self, callee: str, arguments: Iterable[Node]) -> Taints:
        """A call the analysis does not follow: a result named by its callee, carrying the
        request data passed to it (a parameter or state passed is the callee's business)."""
        passed = request_only(self.origins(arguments))
        return tainted(Source.OPAQUE, callee) | passed

    # -- scopes ----------------------------------------------------------------------------

    def build_scope(self, function: Node) -> Scope:
        scope = Scope()
        self.bind_parameters(function, scope)
        body = function.field("body")
        if body is None:
            return scope
        for node in body.find_all(self.BINDINGS):
            self.bind(node, scope)
        if self.EARLY_EXITS:
            for statement in body.find_all(kind="if_statement"):
                self._early_exit_guard(statement, scope)
        return scope

    @abstractmethod
    def bind_parameters(self, function: Node, scope: Scope) -> None:
        """Record in `scope` where each parameter of `function` comes from."""

    @abstractmethod
    def bind(self, node: Node, scope: Scope) -> None:
        """Record in `scope` what `node` (a match of BINDINGS) binds to which names."""

    # -- allow-lists -----------------------------------------------------------------------

    def _early_exit_guard(self, statement: Node, scope: Scope) -> None:
        """`if x not in ALLOWED: raise ...` (or return, continue, break): past it, `x` is one
        of the allowed values."""
        first = _first_statement(statement.field("consequence"))
        if first is None or not self.leaves_early(first):
            return
        checked = self.negated_membership(statement.field("condition"))
        if checked is not None and self.guard_is_constant(checked[1]):
            scope.guarded.add(checked[0])

    def leaves_early(self, statement: Node) -> bool:
        return statement.kind() in self.EARLY_EXITS

    def negated_membership(self, condition: Node | None) -> Membership | None:
        """(`x`, `ALLOWED`) when `condition` holds for an `x` not in `ALLOWED`."""
        return None

    def memberships(self, condition: Node | None) -> list[Membership]:
        """The membership tests that hold whenever `condition` does (its `and` conjunctions
        and parentheses looked into)."""
        if condition is None:
            return []
        kind = condition.kind()
        if kind == "parenthesized_expression":
            return [m for c in named_children(condition) for m in self.memberships(c)]
        conjunction, conjoined_by = self.CONJUNCTION
        if kind == conjunction:
            operator = condition.field("operator")
            if operator is None or operator.text() != conjoined_by:
                return []
            left, right = condition.field("left"), condition.field("right")
            return [*self.memberships(left), *self.memberships(right)]
        found = self.membership(condition)
        return [found] if found is not None else []

    def membership(self, test: Node) -> Membership | None:
        """(`x`, `ALLOWED`) when `test` checks that `x` is in `ALLOWED`."""
        return None

    # -- strings built with `+` --------------------------------------------------------------

    def concatenation_pieces(self, node: Node) -> list[Piece] | None:
        """The pieces of `a + b` when either side is text, else None."""
        operator = node.field("operator")
        left, right = node.field("left"), node.field("right")
        if operator is None or operator.text() != "+" or left is None or right is None:
            return None
        if not (self.is_text(left) or self.is_text(right)):
            return None
        return [*self._operand_pieces(left), *self._operand_pieces(right)]

    def _operand_pieces(self, operand: Node) -> list[Piece]:
        literal = self.literal_pieces(operand)
        if literal is not None:
            return literal
        if operand.kind() == self.CONCATENATION:
            nested = self.pieces(operand)
            if nested is not None:
                return nested
        return [Slot(operand)]

    def is_text(self, node: Node | None) -> bool:
        """Whether `node` is a string literal, or a `+` with text on either side."""
        if node is None:
            return False
        if node.kind() in self.STRINGS:
            return True
        operator = node.field("operator")
        return (
            node.kind() == self.CONCATENATION
            and operator is not None
            and operator.text() == "+"
            and (self.is_text(node.field("left")) or self.is_text(node.field("right")))
        )

    def literal_pieces(self, node: Node) -> list[Piece] | None:
        """A string literal's text as pieces; None for any other node."""
        return [self.literal_text(node)] if node.kind() in self.STRINGS else None

    def literal_text(self, literal: Node) -> str:
        """The text inside a string literal's quotes."""
        return str(literal.text())[1:-1]


def _first_statement(body: Node | None) -> Node | None:
    if body is None or body.kind() not in ("block", "statement_block"):
        return body
    return first_named_child(body)


def bind_arguments(scope: Scope, receiver: Node | None, arguments: Node | None) -> None:
    """`items.append(value)`: the list named `items` now holds the values passed."""
    if receiver is not None and receiver.kind() == "identifier" and arguments is not None:
        for argument in named_children(arguments):
            scope.bind(receiver.text(), argument)


def method_call_rule(call: str, member: str, methods: Iterable[str]) -> dict[str, Any]:
    """An ast-grep rule for a call of one of `methods` on a receiver (`items.append(x)`)."""
    alternatives = "|".join(sorted(methods))
    return {
        "kind": call,
        "has": {"field": "function", "kind": member, "regex": rf"\.({alternatives})$"},
    }
