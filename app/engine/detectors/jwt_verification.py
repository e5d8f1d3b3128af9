"""Judge of JWTs decoded without verification (SEC011, and SEC027 for weaker evidence).

Accepting the `none` algorithm is always a stop-ship. A decode that skips the signature is one
only when its claims are trusted:

- a peek that only reads routing claims (issuer, key id, algorithm, owner) or a function that
  verifies the token after peeking (`get_unverified_header` then `decode(..., key)`) is not a
  finding: the verified decode decides;
- claims read from a token the caller or the request supplies are a stop-ship
  (`evidence: strong`);
- claims read from a token held elsewhere (object state, another call's result: an OpenID
  Connect id_token received straight from the provider's token endpoint over TLS, which the
  specification allows to trust without a signature check) are reported for review
  (`evidence: weak`).
"""

from __future__ import annotations

import re
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import node_judge
from app.engine.detectors.evidence import Verdict, as_matched, detail_at_level
from app.engine.flow import Flow, Source, file_flow
from app.engine.flow.origin import Node, first_named_child, named_children
from app.engine.flow.python_strings import string_text

_UNVERIFIED = re.compile(r"[\"']verify_signature[\"']\s*:\s*False|\bverify\s*=\s*False")
_PEEK = re.compile(r"ParseUnverified|verify_signature|\bverify\s*=\s*False")
_DECODE = re.compile(r"(^|\.)decode(_complete)?$")
# Calls that check a signature, per language.
_VERIFYING_GO = re.compile(r"(^|\.)(Parse|ParseWithClaims)$")
# Claims that choose the verifier rather than grant anything.
_ROUTING_CLAIMS = {"iss", "kid", "alg", "typ", "aud", "azp", "owner", "issuer", "tid", "jku",
                   "x5u", "cty"}  # fmt: skip


@node_judge("jwt_verification")
def jwt_verification(ctx: FileContext, node: Node, options: dict[str, Any]) -> str | None:
    if not _PEEK.search(node.text()):
        return as_matched(options)  # the `none` algorithm accepted
    flow = file_flow(ctx, node)
    function = flow.enclosing_function(node) if flow is not None else None
    if flow is None or function is None:
        return as_matched(options)
    try:
        verdict = _judge(ctx.language or "", flow, function, node)
    except RecursionError:
        verdict = "strong", ""
    return detail_at_level(verdict, options)


def _judge(language: str, flow: Flow, function: Node, node: Node) -> Verdict:
    if _verifies_afterwards(language, function, node):
        return None
    if language != "python" or node.kind() != "call":
        return "strong", ""
    if not _claims_trusted(flow, function, node):
        return None
    token = _token_argument(node)
    taints = flow.origin(token)
    callers = sorted(t.name for t in taints if t.source in (Source.REQUEST, Source.PARAMETER))
    if callers:
        return "strong", f"claims of `{callers[0]}` used without a signature check"
    shown = token.text()[:40] if token is not None else "the token"
    return "weak", f"claims of `{shown}` used without a signature check"


def _verifies_afterwards(language: str, function: Node, node: Node) -> bool:
    """Whether the function also decodes with a signature check (a peek to choose the key)."""
    start = node.range().start.index
    if language == "python":
        for call in function.find_all(kind="call"):
            callee = call.field("function")
            if callee is None or not _DECODE.search(callee.text()):
                continue
            if call.range().start.index > start and not _UNVERIFIED.search(call.text()):
                passed = named_children(call.field("arguments"))
                if len(passed) >= 2:  # a token and a key (or algorithms / options with a key)
                    return True
        return False
    if language == "go":
        for call in function.find_all(kind="call_expression"):
            callee = call.field("function")
            if (
                callee is not None
                and _VERIFYING_GO.search(callee.text())
                and call.range().start.index > start
            ):
                return True
    return False


def _claims_trusted(flow: Flow, function: Node, decode: Node) -> bool:
    """Whether anything but routing claims is read from the decoded payload: the payload
    returned or passed on whole, or a claim other than issuer / key id / algorithm read."""
    parent = decode.parent()
    if parent is not None and parent.kind() == "assignment" and parent.field("right") == decode:
        target = parent.field("left")
        if target is None or target.kind() != "identifier":
            return True
        uses = [
            u
            for u in function.find_all(kind="identifier")
            if u.text() == target.text() and u != target
        ]
        return any(_trusting_use(flow, u) for u in uses)
    return _trusting_use(flow, decode)


def _trusting_use(flow: Flow, use: Node) -> bool:
    parent = use.parent()
    if parent is None:
        return True
    kind = parent.kind()
    if kind == "subscript" and parent.field("value") == use:
        return not _routing_key(flow, parent.field("subscript"))
    if kind == "attribute" and parent.field("object") == use:
        call = parent.parent()
        method = parent.field("attribute")
        if call is not None and call.kind() == "call" and method is not None:
            if method.text() != "get":
                return True
            return not _routing_key(flow, first_named_child(call.field("arguments")))
        return True
    if kind == "assignment" and parent.field("left") == use:
        return False  # the assignment itself
    # a membership test or a truth test reads no claim
    return kind not in ("comparison_operator", "not_operator", "if_statement", "boolean_operator")


def _routing_key(flow: Flow, key: Node | None) -> bool:
    if key is None:
        return False
    text = _constant_string(flow, key)
    return text is not None and text in _ROUTING_CLAIMS


def _constant_string(flow: Flow, node: Node) -> str | None:
    if node.kind() == "string":
        return string_text(node)
    if node.kind() != "identifier":
        return None
    for statement in flow.root.children():
        assignment = statement.child(0) if statement.kind() == "expression_statement" else None
        if assignment is None or assignment.kind() != "assignment":
            continue
        left, right = assignment.field("left"), assignment.field("right")
        if left is not None and left.text() == node.text() and right is not None:
            return _constant_string(flow, right) if right.kind() == "string" else None
    return None


def _token_argument(call: Node) -> Node | None:
    arguments = call.field("arguments")
    if arguments is None:
        return None
    for argument in arguments.children():
        if argument.kind() == "keyword_argument":
            name = argument.field("name")
            if name is not None and name.text() in ("jwt", "token"):
                return argument.field("value")
        elif argument.is_named():
            return argument
    return None
