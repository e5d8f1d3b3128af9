"""The language-neutral part of the data-flow analysis: sources, scopes, string building.

A value's origin is a set of Taints. The empty set means the value is built only from constants:
literals, module-level names (constants, imports, enum members), numbers, quoted identifiers and
other sanitiser results, placeholders, values checked against an allow-list. Otherwise each
Taint names where outside data enters: the request being served, a parameter of the function
(its caller's data), the object's state (`self.x`, `this.x`), or the result of a call the
analysis does not follow.

Assignments are followed within the function and the functions around it, without regard to
their order (an over-approximation); calls are not followed, except a few builtins and string
methods that pass their arguments on. Nothing here runs or imports the analysed code.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

Node = Any  # an ast-grep SgNode (the binding has no type stubs)


class Source(enum.Enum):
    REQUEST = "request data"
    PARAMETER = "parameter"
    STATE = "object state"
    OPAQUE = "call result"


@dataclass(frozen=True)
class Taint:
    source: Source
    name: str  # the parameter's name, the request expression, the attribute or the callee
    # spliced into a quoted SQL/string literal or compared as a value (`= '{x}'`, `= {x}`)
    as_value: bool = False


Taints = frozenset[Taint]
NONE: Taints = frozenset()


@dataclass
class Scope:
    """What one function binds: its parameters' origins, the expressions assigned to (or
    iterated into, or appended to) each local name, and names checked against an allow-list
    with an early exit (`if x not in ALLOWED: raise`)."""

    parameters: dict[str, Taints] = field(default_factory=dict)
    bindings: dict[str, list[Node]] = field(default_factory=dict)
    guarded: set[str] = field(default_factory=set)

    def bind(self, name: str, value: Node) -> None:
        self.bindings.setdefault(name, []).append(value)


# A piece of a string built at run time: literal text, or a value spliced in (`numeric` when the
# format forces a number: `%d`, `{:d}`).
@dataclass(frozen=True)
class Slot:
    node: Node
    numeric: bool = False


Piece = str | Slot

# Where a spliced value lands in SQL-like text: after a comparison, inside `IN (...)` /
# `VALUES (...)`. (Inside quotes is decided by counting them.)
_VALUE_CONTEXT = re.compile(
    r"(?:[=<>]|\blike|\bilike|\b(?:in|values)\s*\([^()]*)\s*$", re.IGNORECASE
)
_LENGTH_SEARCHED = 200

# Callee names whose result is safe to splice whatever went in: numbers, quoted identifiers and
# literals, escaping, placeholders.
SANITISER = re.compile(
    r"(?i)(^(int|float|bool|len|abs|round|number|boolean|bigint|parseint|parsefloat|ord|hash"
    r"|itoa|formatint|formatfloat|formatbool|uuid\d?|randomuuid)$"
    r"|(?<!un)quote|(?<!un)escape|saniti[sz]e|^(sql\.)?(identifier|literal|placeholders?)$|^ident$"
    r"|placeholder|^format_ident$)"
)


def value_position(before: str) -> bool:
    """Whether a value spliced after the literal text `before` lands where SQL expects a value:
    inside a quoted literal (an odd number of `'` before it), after a comparison, or in an
    `IN (...)` / `VALUES (...)` list."""
    if before.count("'") % 2 == 1:
        return True
    return _VALUE_CONTEXT.search(before[-_LENGTH_SEARCHED:]) is not None


def tainted(source: Source, name: str) -> Taints:
    """The origin of a value from one place outside the function: `source`, named `name`."""
    return frozenset({Taint(source, name)})


def words(text: str) -> frozenset[str]:
    """A set of names written as one string, space-separated."""
    return frozenset(text.split())


def named_children(node: Node | None) -> list[Node]:
    """The named children of `node` (no punctuation, no keywords); none for None."""
    return [c for c in node.children() if c.is_named()] if node is not None else []


def first_named_child(node: Node | None) -> Node | None:
    return next((c for c in node.children() if c.is_named()), None) if node is not None else None


def field_text(node: Node, name: str) -> str:
    """The text of `node`'s field `name`; empty when it has none."""
    child = node.field(name)
    return child.text() if child is not None else ""


def union(parts: Iterable[Taints]) -> Taints:
    out: set[Taint] = set()
    for part in parts:
        out |= part
    return frozenset(out)


def request_only(taints: Taints) -> Taints:
    return frozenset(t for t in taints if t.source is Source.REQUEST)


class Flow(ABC):
    """One file's analysis. Results are memoised per node for the life of the object (one
    judge call); identifiers being resolved are tracked so that `a = a + x` terminates."""

    FUNCTIONS: frozenset[str] = frozenset()
    CALL = "call_expression"  # the kind of a call node (its callee in field `function`)

    def __init__(self, root: Node) -> None:
        self.root = root
        self._memo: dict[Node, Taints] = {}
        self._scopes: dict[Node, Scope] = {}
        self._resolving: set[tuple[Node, str]] = set()
        self._calls: dict[str, list[Node]] | None = None
        self._checked: set[str] | None = None
        # scopes built without asking for an origin: what the file's text alone decides, kept
        # by `forget` for the next judge of the file (the others may depend on what was being
        # resolved when they were built)
        self._plain_scopes: dict[Node, Scope] = {}
        self._evaluations = 0

    def forget(self) -> None:
        """Start over as a new analysis of the file would, keeping only what its text alone
        decides (the calls by name, the checked values, the scopes built from the text)."""
        self._memo = {}
        self._scopes = {}
        self._resolving = set()

    # -- the public questions --------------------------------------------------------------

    def origin(self, node: Node | None) -> Taints:
        """Where the value of expression `node` comes from."""
        if node is None:
            return NONE
        self._evaluations += 1  # asked, even if known: the answer may be one being worked out
        known = self._memo.get(node)
        if known is not None:
            return known
        self._memo[node] = NONE  # a cycle through this node adds nothing
        result = self.evaluate(node)
        self._memo[node] = result
        return result

    def enclosing_function(self, node: Node) -> Node | None:
        current = node.parent()
        while current is not None:
            if current.kind() in self.FUNCTIONS:
                return current
            current = current.parent()
        return None

    def scope(self, function: Node) -> Scope:
        known = self._scopes.get(function)
        if known is None:
            known = self._plain_scopes.get(function)
            if known is None:
                evaluations = self._evaluations
                known = self.build_scope(function)
                if self._evaluations == evaluations:
                    self._plain_scopes[function] = known
            self._scopes[function] = known
        return known

    def values_of(self, name: str, at: Node) -> list[Node]:
        """The expressions assigned to `name` in the function that binds it, seen from `at`."""
        function = self.enclosing_function(at)
        while function is not None:
            scope = self.scope(function)
            if name in scope.bindings or name in scope.parameters:
                return list(scope.bindings.get(name, []))
            function = self.enclosing_function(function)
        return []

    def built(self, pieces: list[Piece]) -> Taints:
        """The origin of a string built from `pieces`: each spliced value's origin, marked
        `as_value` where the text before it puts it in a value position; values after a `$`
        (a `$1` placeholder's number) and numeric format slots add nothing."""
        out: set[Taint] = set()
        before: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                before.append(piece)
                continue
            text = "".join(before)
            before.append("?")
            if piece.numeric or text.endswith("$"):
                continue
            taints = self.origin(piece.node)
            if taints and value_position(text):
                taints = frozenset(replace(t, as_value=True) for t in taints)
            out |= taints
        return frozenset(out)

    # -- name resolution -------------------------------------------------------------------

    def resolve(self, name: str, at: Node) -> Taints:
        """The origin of identifier `name` used at `at`: the parameters and assignments of the
        innermost function that binds it; nothing (a module-level name) when none does."""
        if self.is_guarded(name, at):
            return NONE
        function = self.enclosing_function(at)
        while function is not None:
            scope = self.scope(function)
            if name in scope.parameters or name in scope.bindings:
                key = (function, name)
                if key in self._resolving:
                    return NONE
                self._resolving.add(key)
                try:
                    found = scope.parameters.get(name, NONE)
                    if any(t.source is Source.PARAMETER for t in found):
                        found = self._passed_by_callers(function, name, found)
                    return union([found, *(self.origin(v) for v in scope.bindings.get(name, []))])
                finally:
                    self._resolving.discard(key)
            function = self.enclosing_function(function)
        return NONE

    def is_guarded(self, text: str, at: Node) -> bool:
        """Whether the value written `text` (a name or `obj.attr`) is checked against an
        allow-list around `at`: an early exit for other values in a function around it, or
        `at` inside the branch taken for allowed values."""
        if self._checked is None:
            self._checked = self.checked_values()
        if text not in self._checked:
            return False
        current, parent = at, at.parent()
        while parent is not None:
            if parent.kind() in self.FUNCTIONS:
                if text in self.scope(parent).guarded:
                    return True
            else:
                for checked, collection in self.memberships_guarding(parent, current):
                    if checked == text and self.guard_is_constant(collection):
                        return True
            current, parent = parent, parent.parent()
        return False

    def _passed_by_callers(self, function: Node, name: str, declared: Taints) -> Taints:
        """A parameter of a function only this file can call takes what those calls pass: the
        request's data when one passes it, the declared parameter when one passes its own
        caller's data, else nothing but the state and call results they pass (constants
        passed by every caller make it a constant). A function never called here keeps it."""
        calls = self.calls_in_file(function)
        if not calls:
            return declared
        passed: list[Taints] = []
        for call in calls:
            argument = self.argument_for(function, call, name)
            if argument is None:
                return declared  # a default value, or arguments spread in: not followed
            passed.append(self.origin(argument))
        taints = union(passed)
        if any(t.source is Source.REQUEST for t in taints):
            return request_only(taints)
        if any(t.source is Source.PARAMETER for t in taints):
            return declared
        return taints

    def calls_named(self, *callees: str) -> list[Node]:
        """The calls in this file whose callee is written as one of `callees` (indexed once)."""
        if self._calls is None:
            self._calls = {}
            for call in self.root.find_all(kind=self.CALL):
                callee = call.field("function")
                if callee is not None:
                    self._calls.setdefault(callee.text(), []).append(call)
        return [call for callee in callees for call in self._calls.get(callee, [])]

    def calls_in_file(self, function: Node) -> list[Node]:
        """The calls of `function` in this file when nothing outside it can call it (a
        function the module does not export, a private method), else nothing."""
        return []

    def argument_for(self, function: Node, call: Node, name: str) -> Node | None:
        """The expression `call` passes for parameter `name` of `function`."""
        return None

    def checked_values(self) -> set[str]:
        """Every value this file tests for membership (`x in ALLOWED`, `SET.has(x)`): the only
        texts worth looking for allow-list checks around (found once per file)."""
        return set()

    def memberships_guarding(self, parent: Node, child: Node) -> list[tuple[str, Node]]:
        """The (value, collection) membership tests of `parent` that hold when `child` runs
        (`child` is the branch of an `if` or a conditional expression taken when they do)."""
        return []

    def guard_is_constant(self, collection: Node) -> bool:
        """An allow-list must not itself come from the caller or the request."""
        return not any(
            t.source in (Source.PARAMETER, Source.REQUEST) for t in self.origin(collection)
        )

    # -- what each language supplies ------------------------------------------------------

    @abstractmethod
    def build_scope(self, function: Node) -> Scope: ...

    @abstractmethod
    def evaluate(self, node: Node) -> Taints: ...

    @abstractmethod
    def pieces(self, node: Node) -> list[Piece] | None:
        """The pieces of a string-building expression (f-string, template, concatenation,
        format call), or None when `node` does not build a string."""

    def union_of_children(self, node: Node) -> Taints:
        return union(self.origin(c) for c in named_children(node))


def callback_receiver_origin(flow: Flow, function: Node, call_kinds: frozenset[str]) -> Taints:
    """The origin of the parameters of a function passed as an argument (`rows.map(r => ...)`,
    `this.run(db => ...)`): the receiver of the method it is passed to, or the other arguments
    of a plain function."""
    arguments = function.parent()
    if arguments is None:
        return NONE
    call = arguments.parent()
    if call is None or call.kind() not in call_kinds:
        return NONE
    callee = call.field("function")
    if callee is not None:
        receiver = callee.field("object") or callee.field("operand")
        if receiver is not None:
            return flow.origin(receiver)
    return union(flow.origin(a) for a in named_children(arguments) if a != function)
