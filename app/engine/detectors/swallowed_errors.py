"""Swallowed exceptions and ignored errors: ERR001 on servers, ERR009 in browser code.

The shapes are the rule file's ast-grep rules (`options.ast_grep`, per language). For
JavaScript / TypeScript the candidates are then judged here:

- a zod schema's `.catch(() => undefined)` is the fallback value of a parse, not a promise's
  rejection handler (the chain starts at a name imported from `zod`);
- `const doc = await load(id).catch(() => null)` followed by `if (!doc) throw new
  Response("Not Found", { status: 404 })` (or a return of a 4xx / not-found / redirect response,
  a throw, or a call that tells the user or the log) handles the failure explicitly: the
  rejection becomes a "missing" result that the next statement answers;
- in browser code (browser_code) an ignored rejection hides a failure from one user, not from
  the operators: it is reported by ERR009 (lower), not ERR001.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.detectors.browser_code import runs_in_browser
from app.engine.detectors.language_rules import (
    Prefilter,
    matching_nodes,
    prefilter_passes,
    rule_language,
)
from app.engine.model import Hit

# What a file must contain for a language's rule to find anything (each accepts all that the
# rule matches: change both together). Go: an empty `if err != nil {}`; `_` given the result of
# a call the rule does not exempt (the same list); one of the error-only calls as a statement.
_JS_PREFILTER = Prefilter(r"catch\s*(\([^)]*\))?\s*\{\s*\}|\.catch\(")
_GO_EXEMPT = (
    r"Close|Write|WriteString|WriteHeader|Fprint|Fprintf|Fprintln|Print|Printf|Println|Encode"
    r"|Flush|Sync|Rollback|Remove|RemoveAll|Setenv|Unsetenv|SetDeadline|SetReadDeadline"
    r"|SetWriteDeadline|Shutdown|LookupEnv|Load|LoadOrStore|LoadAndDelete|Swap|CompareAndSwap"
    r"|GetQuery|GetPostForm|GetQueryArray|GetPostFormArray|Cut|CutPrefix|CutSuffix|DecodeRune\w*"
    r"|DecodeLastRune\w*|SetString|Lookup|Deadline|Caller|Password|BasicAuth|FieldByName"
    r"|MethodByName|Zone"
)
_PREFILTERS = {
    "python": Prefilter(r"except\s*(\(?\s*(Exception|BaseException)\s*\)?(\s+as\s+\w+)?)?\s*:"),
    "javascript": _JS_PREFILTER,
    "typescript": _JS_PREFILTER,
    "go": Prefilter(
        r"err\s*!=\s*nil\s*\{\s*(//[^\n]*\s*|/\*[\s\S]*?\*/\s*)*\}"
        rf"|(^|[\s,])_\s*:?=(?!\s*(?:(?:[\w.]*\.)?(?:{_GO_EXEMPT})\(|(?:c|ctx)\.Get\(|math\.))[^=]"
        r"|(?:^|\n|[{;])[ \t]*(?:(?:defer|go)[ \t]+)?(?:[^=\n]|[=!<>]=)*?"
        r"\.(?:Commit|Exec|ExecContext|Scan|Ping|PingContext|Unmarshal|Decode|ListenAndServe"
        r"|ListenAndServeTLS)\("
    ),
    "java": Prefilter(
        r"catch\s*\([^)]*\)\s*\{\s*((//[^\n]*|/\*[\s\S]*?\*/)\s*)*"
        r"(\w+\.printStackTrace\(\)\s*;\s*)?\}"
    ),
}
_SCRIPTS = ("javascript", "typescript")
# what may sit between the `.catch(...)` call and the name it is bound to
_TRANSPARENT = frozenset(
    {
        "await_expression",
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
    }
)
_STATEMENTS = frozenset({"lexical_declaration", "variable_declaration", "expression_statement"})
# an answer to the missing value: a failure response, a redirect, or telling someone
_FAILURE_RETURN = re.compile(
    r"(?i:\b[45]\d\d\b|not.?found|redirect|error|unauthori[sz]ed|forbidden|bad.?request|invalid)"
)
_TELLS = re.compile(
    r"\b(toast|notify|notification|alert|showError|setError)(\.\w+)?\s*\("
    r"|\bmessage\.(error|warning)\s*\(|\bconsole\.(error|warn)\s*\("
    r"|\b(logger|log)\.(error|warn|warning|info)\s*\("
)
_ZOD_IMPORT = re.compile(
    r"""import\s+(\{(?P<names>[^}]*)\}|\*\s+as\s+(?P<star>\w+)|(?P<default>\w+))\s+from\s+["']zod(/[\w/]+)?["']"""
)


@file_detector("swallowed_errors")
def swallowed_errors(ctx: FileContext, options: dict[str, Any]) -> Iterator[Hit]:
    """ERR001 (`browser: false`: everything but browser code) or ERR009 (`browser: true`:
    browser code only) hits."""
    if not prefilter_passes(ctx, _PREFILTERS):
        return
    script = rule_language(ctx) in _SCRIPTS
    wanted_browser = bool(options.get("browser", False))
    if (script and runs_in_browser(ctx)) != wanted_browser:
        return
    zod_names: frozenset[str] | None = None
    for node in matching_nodes(ctx, options):
        if script and node.kind() == "call_expression":
            if zod_names is None:
                zod_names = _zod_names(ctx.text)
            if _chain_root(node) in zod_names or _answered(node):
                continue
        yield Hit("", node.range().start.line + 1, node.text()[:200])


def _zod_names(text: str) -> frozenset[str]:
    names: set[str] = set()
    for m in _ZOD_IMPORT.finditer(text):
        if m.group("names"):
            names.update(part.split(" as ")[-1].strip() for part in m.group("names").split(","))
        names.update(n for n in (m.group("star"), m.group("default")) if n)
    names.discard("")
    return frozenset(names)


def _chain_root(call: Any) -> str | None:
    """The name a method chain starts from: `z` for `z.string().optional().catch(...)`."""
    node = call
    while node is not None and node.kind() in ("call_expression", "member_expression"):
        node = node.field("function") if node.kind() == "call_expression" else node.field("object")
    return node.text() if node is not None and node.kind() == "identifier" else None


def _answered(catch_call: Any) -> bool:
    """Whether the value the `.catch(...)` turns a rejection into is bound to a name that a
    later `if (!name)` in the same block answers with a failure."""
    found = _bound_name(catch_call)
    if found is None:
        return False
    name, statement = found
    negated = re.compile(
        rf"(?<![\w$.])!\s*{re.escape(name)}(?![\w$])|\b{re.escape(name)}\s*===?\s*(null|undefined)\b"
    )
    for later in statement.next_all():
        if later.kind() != "if_statement":
            continue
        condition = later.field("condition")
        consequence = later.field("consequence")
        if condition is None or consequence is None or not negated.search(condition.text()):
            continue
        if _fails(consequence):
            return True
    return False


def _bound_name(catch_call: Any) -> tuple[str, Any] | None:
    """(name, its statement) for `const name = await f().catch(...)`, `name = await ...` or
    `const [a, name] = await Promise.all([g(), f().catch(...)])`."""
    node = catch_call
    parent = node.parent()
    index: int | None = None
    while parent is not None and parent.kind() in _TRANSPARENT:
        node, parent = parent, parent.parent()
    if parent is not None and parent.kind() == "array":
        # an element of Promise.all([...]): its position in the destructured result
        index = next((i for i, child in enumerate(parent.named_children()) if child == node), None)
        node, parent = parent, parent.parent()
        if parent is None or parent.kind() != "arguments":
            return None
        call = parent.parent()
        if call is None or not call.text().startswith("Promise.all"):
            return None
        node, parent = call, call.parent()
        while parent is not None and parent.kind() in _TRANSPARENT:
            node, parent = parent, parent.parent()
    if parent is None:
        return None
    if parent.kind() == "variable_declarator":
        target = parent.field("name")
    elif parent.kind() == "assignment_expression":
        target = parent.field("left")
    else:
        return None
    if target is None:
        return None
    if index is not None:
        if target.kind() != "array_pattern":
            return None
        elements = target.named_children()
        if index >= len(elements):
            return None
        target = elements[index]
    if target.kind() != "identifier":
        return None
    statement = parent
    while statement is not None and statement.kind() not in _STATEMENTS:
        statement = statement.parent()
    return (target.text(), statement) if statement is not None else None


def _fails(consequence: Any) -> bool:
    """A throw, a return of a failure response, or telling the user or the log."""
    if consequence.kind() == "throw_statement" or consequence.find(
        {"rule": {"kind": "throw_statement"}}
    ):
        return True
    for returned in (
        [consequence]
        if consequence.kind() == "return_statement"
        else consequence.find_all({"rule": {"kind": "return_statement"}})
    ):
        if _FAILURE_RETURN.search(returned.text()):
            return True
    return _TELLS.search(consequence.text()) is not None
