"""Outbound calls without a timeout: HTTP (ERR002) and other network clients (ERR008).

Python is read with `ast` (python_outbound: imports resolved, `**kwargs` dicts followed). The
other languages run the ast-grep rules the rule file gives in `options.ast_grep`; a JavaScript
or TypeScript call is then dropped where it cannot hold a server's resources: in browser code
(browser_code), or where `fetch` is given a relative URL (same origin: only a browser can fetch
it; Node's fetch rejects it). One finding per request: the rules match the call whose callee is
`fetch` or `axios.get`, not the calls a promise chain adds after it. A script whose own path and
content say nothing is withdrawn when its package is a front-end application's (the hit
resolver; a script with server evidence says so with a `server-script` fact).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoView, file_detector, hit_resolver
from app.engine.detectors.browser_code import in_browser_package, script_runtime
from app.engine.detectors.language_rules import (
    Prefilter,
    matching_nodes,
    prefilter_passes,
    rule_language,
)
from app.engine.detectors.python_outbound import Protocol, unbounded_calls
from app.engine.model import Fact, Hit, ParseProblem
from app.engine.paths import language_of

# What a file must contain for a language's rule to find anything (each accepts all that the
# rule matches: change both together). A lookahead that rules a call out reads at most 1,000
# characters of its arguments (past them the call is let through, to the parse): unbounded, each
# of 70,000 nested `fetch(` in one file read the rest of the file.
_HTTP_PREFILTERS = {
    "python": Prefilter(
        r"(requests\.(get|post|put|patch|delete|head|options|request)|ClientSession|urlopen"
        r"|HTTPS?Connection)\((?![^)]{0,1000}\btimeout\s*=)|import requests as|from requests import"
        r"|pycurl|timeout\s*=\s*None"
    ),
    "javascript": Prefilter(
        r"\bfetch\((?![^)]{0,1000}\b(signal|timeout)\b)|\A(?![\s\S]*\btimeout\b)[\s\S]*?axios\."
    ),
    "go": Prefilter(
        r"http\.(Get|Post|PostForm|Head)\(|http\.Client\{(?![^}]{0,1000}Timeout)|http\.DefaultClient\b"
    ),
    "java": Prefilter(
        r"new\s+RestTemplate\(\s*\)|HttpClient\.newHttpClient\(\)"
        r"|(WebClient|RestClient)\.(create|builder)\(|\.openConnection\("
    ),
}
_HTTP_PREFILTERS["typescript"] = _HTTP_PREFILTERS["javascript"]
_NETWORK_PREFILTERS = {
    "python": Prefilter(r"smtplib|imaplib|poplib|ftplib|telnetlib|create_connection"),
    "go": Prefilter(r"\b(net|tls)\.Dial\("),
}
_SCRIPTS = ("javascript", "typescript")
_SERVER_SCRIPT = "server-script"
_FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition"}
)
_ABSOLUTE_URL = re.compile(r"[A-Za-z][\w+.-]*:|//")


@file_detector("outbound_call_without_timeout")
def outbound_call_without_timeout(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    """ERR002: HTTP requests and HTTP clients that can wait forever."""
    return _calls(ctx, options, "http", _HTTP_PREFILTERS)


@file_detector("network_call_without_timeout")
def network_call_without_timeout(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    """ERR008: mail, file-transfer and raw socket clients that can wait forever."""
    return _calls(ctx, options, "network", _NETWORK_PREFILTERS)


def _calls(
    ctx: FileContext,
    options: dict[str, Any],
    protocol: Protocol,
    prefilters: dict[str, Prefilter],
) -> Iterator[Hit | Fact | ParseProblem]:
    if not prefilter_passes(ctx, prefilters):
        return
    language = rule_language(ctx)
    if language == "python":
        findings = unbounded_calls(ctx)
        if findings.problem is not None:
            yield findings.problem
        for call in findings.calls:
            if call.protocol == protocol:
                yield Hit("", call.line, call.text, call.detail)
        return
    script = language in _SCRIPTS
    runtime = script_runtime(ctx) if script else None
    if runtime == "browser":
        return
    # lazily: the analysis takes a rule's first hits only, and a node's line costs a walk of
    # its line (thousands of calls on one minified line)
    nodes = (
        node
        for node in matching_nodes(ctx, options)
        if not (script and (_fetch_shadowed(node) or _same_origin(node)))
    )
    first = next(nodes, None)
    if first is None:
        return
    if runtime == "server":
        yield Fact(_SERVER_SCRIPT, "", 1)  # its package cannot make it browser code
    for node in itertools.chain((first,), nodes):
        yield Hit("", node.range().start.line + 1, node.text()[:200])


@hit_resolver("outbound_call_without_timeout")
def _in_front_end_package(path: str, hit: Hit, view: RepoView) -> bool:
    """A script that says nothing of where it runs, in a front-end application's package."""
    if language_of(path) not in ("javascript", "typescript", "tsx"):
        return False
    if any(p == path for p, _ in view.where(_SERVER_SCRIPT)):
        return False
    return in_browser_package(path, view)


def _fetch_shadowed(call: Any) -> bool:
    """`fetch(...)` where `fetch` is a parameter of an enclosing function (a loader passed in),
    not the global."""
    callee = call.field("function")
    if callee is None or callee.kind() != "identifier":
        return False
    name = re.compile(rf"(?<![\w$.]){re.escape(callee.text())}(?![\w$])")
    for ancestor in call.ancestors():
        if ancestor.kind() in _FUNCTIONS:
            params = ancestor.field("parameters") or ancestor.field("parameter")
            if params is not None and name.search(params.text()):
                return True
    return False


def _same_origin(call: Any) -> bool:
    """`fetch` of a relative URL literal (`fetch("/api/items")`): the page's own server (axios
    may have a base URL configured elsewhere: its relative URLs are not judged by themselves)."""
    callee = call.field("function")
    if callee is None or callee.text() != "fetch":
        return False
    arguments = call.field("arguments")
    first = arguments.named_children()[0] if arguments is not None else None
    if first is None or first.kind() not in ("string", "template_string"):
        return False
    url = first.text()[1:-1]
    if first.kind() == "template_string" and url.startswith("${"):
        return False
    return bool(url) and not _ABSOLUTE_URL.match(url)
