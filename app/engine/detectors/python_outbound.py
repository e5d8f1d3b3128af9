"""Outbound network calls in Python that wait without a bound, read with `ast`.

Names are resolved through the file's imports (`from urllib.request import urlopen`, `import
smtplib as mail`), so a call is judged by what it calls, not by how it is spelled. A timeout can
be given as a keyword, as a positional argument (the clients of the standard library take it
after the address), or inside a `**kwargs` dict; a dict built in the same file (a literal, or
the return value of a function or method defined there) is read, one that comes from elsewhere
(a parameter, another module) may hold a timeout and is given the benefit of the doubt.

The socket clients of the standard library fall back to the process-wide default, which is no
timeout unless `socket.setdefaulttimeout(...)` is called (in this file, as far as we can see).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from app.engine.context import FileContext
from app.engine.model import ParseProblem

Protocol = Literal["http", "network"]


@dataclass(frozen=True)
class Client:
    """A call that opens a connection: where its timeout goes and what it speaks."""

    protocol: Protocol
    # index of the timeout among positional arguments (None: keyword only)
    position: int | None = None
    # the connection is only opened when an address is given (`FTP()` connects in `.connect()`)
    needs_address: bool = False
    # clients of the socket module's process-wide default timeout
    socket_default: bool = True


_REQUESTS = Client("http", socket_default=False)
_CLIENTS: dict[str, Client] = {
    **{
        f"requests.{verb}": _REQUESTS
        for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")
    },
    "aiohttp.ClientSession": _REQUESTS,
    "urllib.request.urlopen": Client("http", 2),
    "http.client.HTTPConnection": Client("http", 2),
    "http.client.HTTPSConnection": Client("http", 4),
    "socket.create_connection": Client("network", 1),
    "smtplib.SMTP": Client("network", 3),
    "smtplib.SMTP_SSL": Client("network", 5),
    "smtplib.LMTP": Client("network", 4),
    "imaplib.IMAP4": Client("network", 2),
    "imaplib.IMAP4_SSL": Client("network", 5),
    "poplib.POP3": Client("network", 2),
    "poplib.POP3_SSL": Client("network", 4),
    "ftplib.FTP": Client("network", 4, needs_address=True),
    "ftplib.FTP_TLS": Client("network", 7, needs_address=True),
    "telnetlib.Telnet": Client("network", 2, needs_address=True),
}
# `timeout=None` switches the bound off in these libraries (httpx's default is 5 seconds)
_TIMEOUT_NONE_MODULES = ("requests.", "httpx.", "aiohttp.")
# libcurl bounds the connect (300 s) but never the transfer unless one of these is set
_CURL_TRANSFER_LIMITS = frozenset({"TIMEOUT", "TIMEOUT_MS", "LOW_SPEED_TIME"})


@dataclass(frozen=True)
class Unbounded:
    """One call that can wait forever."""

    protocol: Protocol
    line: int
    text: str
    detail: str = ""


@dataclass(frozen=True)
class Findings:
    calls: tuple[Unbounded, ...] = ()
    problem: ParseProblem | None = None


# For a source `ast` rejects (Python 2, a fragment): the plain requests calls, found by their text,
# that pass neither `timeout=` nor `**` before the next `)`
_REQUESTS_CALL = re.compile(r"\brequests\.(get|post|put|patch|delete|head|options|request)\(")
_BOUNDED_ARGUMENT = re.compile(r"(?=\btimeout\s*=|\*\*)")


def unbounded_calls(ctx: FileContext) -> Findings:
    """The outbound calls without a timeout in a Python file (once per file: two rules ask)."""
    known = ctx.memo.get(unbounded_calls)
    if known is None:
        if _bounded_on_their_face(ctx.text):
            known = Findings()  # spares the parse of a module whose every call names a timeout
        else:
            known = _unbounded_calls(ctx.text, ctx.python_ast)
        ctx.memo[unbounded_calls] = known
    return known


# What only a parse can judge: another client, an alias of requests, a timeout switched off
_BEYOND_REQUESTS = re.compile(
    r"ClientSession|urlopen|HTTPS?Connection|pycurl|Curl|smtplib|imaplib|poplib|ftplib"
    r"|telnetlib|create_connection|SMTP|LMTP|IMAP4|POP3|FTP|Telnet|timeout\s*=\s*None"
    r"|import\s+requests\s+as|from\s+requests\s+import|\*\*"
)
_REQUESTS_OPEN = re.compile(r"\brequests\.\w+\(")
_NAMES_TIMEOUT = re.compile(r"[^()]*\btimeout\s*=")


def _bounded_on_their_face(source: str) -> bool:
    """True when the module's only clients are `requests.<verb>(...)` calls that each pass
    `timeout=` before their first parenthesis closes or opens: nothing to find there."""
    if _BEYOND_REQUESTS.search(source):
        return False
    return all(_NAMES_TIMEOUT.match(source, m.end()) for m in _REQUESTS_OPEN.finditer(source))


def _unbounded_calls(source: str, tree: ast.Module | None) -> Findings:
    if tree is None:
        try:
            ast.parse(source)  # again, for the error's line (a file `ast` rejects is rare)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            error: Exception = exc
        else:  # pragma: no cover - python_ast and ast.parse agree
            error = SyntaxError("unparsable")
        line = getattr(error, "lineno", None)
        return Findings(_requests_calls(source), ParseProblem("python", f"line {line}: {error}"))
    return Findings(tuple(_Module(tree, source).unbounded()))


def _requests_calls(source: str) -> tuple[Unbounded, ...]:
    """The calls `_REQUESTS_CALL` finds whose arguments up to the next `)` name no timeout (one
    pass each over the text: nested calls in a hostile file would rescan it per call)."""
    calls = list(_REQUESTS_CALL.finditer(source))
    if not calls:
        return ()
    closes = [m.start() for m in re.finditer(r"\)", source)]
    bounded = [m.start() for m in _BOUNDED_ARGUMENT.finditer(source)]
    newlines = [m.start() for m in re.finditer("\n", source)]
    out = []
    for m in calls:
        end = m.end()
        at = bisect_left(closes, end)
        close = closes[at] if at < len(closes) else len(source)
        at = bisect_left(bounded, end)
        if at < len(bounded) and bounded[at] < close:
            continue
        out.append(Unbounded("http", bisect_left(newlines, m.start()) + 1, m.group(0)))
    return tuple(out)


_Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(frozen=True)
class _Place:
    """Where a dict is looked up: the function (or module) whose variables hold it, and the line
    of the call that uses it."""

    scope: ast.AST
    line: int


# The lines worth descending to: imports, the clients' names, what bounds them process-wide.
_IMPORT_LINE = re.compile(r"^[ \t]*(from[ \t]+[\w.]+[ \t]+)?import\b", re.MULTILINE)
_CANDIDATE_LINE = re.compile(
    r"requests|ClientSession|urlopen|HTTPS?Connection|pycurl|Curl|timeout\s*=\s*None|smtplib"
    r"|imaplib|poplib|ftplib|telnetlib|create_connection|SMTP|LMTP|IMAP4|POP3|FTP|Telnet"
    r"|setdefaulttimeout|TIMEOUT|LOW_SPEED_TIME"
)


class _Module:
    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source
        self.aliases: dict[str, str] = {}
        self.calls: list[tuple[ast.Call, ast.AST]] = []  # each call and its scope
        self.curl_transfer_limit = False
        self._functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] | None = None
        self._lines: list[str] | None = None
        # Only the statements that hold an import or a client's name are walked (most of a file
        # is not): imports first, so that an alias (`import requests as http`) is known.
        imports = _line_numbers(source, _IMPORT_LINE)
        for node, _ in _descend(tree, imports):
            if isinstance(node, ast.Import | ast.ImportFrom):
                _add_aliases(node, self.aliases)
        names = [re.escape(local) for local in self.aliases if local.isidentifier()]
        wanted = (
            _CANDIDATE_LINE
            if not names
            else re.compile(f"{_CANDIDATE_LINE.pattern}|\\b({'|'.join(names)})\\b")
        )
        for node, scope in _descend(tree, _line_numbers(source, wanted)):
            if isinstance(node, ast.Call):
                self.calls.append((node, scope))
            elif isinstance(node, ast.Attribute):
                self.curl_transfer_limit |= node.attr in _CURL_TRANSFER_LIMITS
        self.calls.sort(key=lambda entry: (entry[0].lineno, entry[0].col_offset))
        self.socket_default_set = any(
            self.name_of(call.func) == "socket.setdefaulttimeout" for call, _ in self.calls
        )

    @property
    def functions(self) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
        """Every function and method of the file by name (walked only when a `**kwargs` dict
        leads to one)."""
        if self._functions is None:
            self._functions = {}
            for node in ast.walk(self.tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self._functions.setdefault(node.name, []).append(node)
        return self._functions

    def name_of(self, node: ast.AST) -> str | None:
        """The dotted name a call target refers to, through the imports (`rq.get` ->
        `requests.get`); None for anything but names and attributes of names."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def unbounded(self) -> Iterator[Unbounded]:
        for call, scope in self.calls:
            name = self.name_of(call.func)
            if name is None:
                continue
            found = self._judge(call, name, _Place(scope, call.lineno))
            if found is not None:
                yield found

    def _judge(self, call: ast.Call, name: str, place: _Place) -> Unbounded | None:
        if name.startswith(_TIMEOUT_NONE_MODULES):
            for k in call.keywords:
                if (
                    k.arg == "timeout"
                    and isinstance(k.value, ast.Constant)
                    and k.value.value is None
                ):
                    return Unbounded(
                        "http", k.lineno, self._source_of(k), "timeout=None waits forever"
                    )
        if name == "pycurl.Curl":
            if self.curl_transfer_limit:
                return None
            return self._found("http", call, "no TIMEOUT (or LOW_SPEED_TIME) option is set")
        client = _CLIENTS.get(name)
        if client is None or (client.socket_default and self.socket_default_set):
            return None
        if client.needs_address and not call.args and not call.keywords:
            return None
        if client.position is not None and len(call.args) > client.position:
            return None
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None  # positional arguments from elsewhere
        detail = ""
        for keyword in call.keywords:
            if keyword.arg == "timeout":
                return None
            if keyword.arg is None:  # **kwargs
                if self._dict_has_timeout(keyword.value, place, depth=0) is not False:
                    return None
                detail = f"the keyword arguments in `{ast.unparse(keyword.value)}` set no timeout"
        return self._found(client.protocol, call, detail)

    def _found(self, protocol: Protocol, call: ast.Call, detail: str) -> Unbounded:
        return Unbounded(protocol, call.lineno, self._source_of(call)[:200], detail)

    def _source_of(self, node: ast.expr | ast.keyword) -> str:
        """The node's source text (what the fingerprint is made of), as `ast.get_source_segment`
        gives it, without splitting the whole file again for every node."""
        if self._lines is None:
            self._lines = self.source.splitlines(keepends=True)
        end_line, end_col = node.end_lineno, node.end_col_offset
        if end_line is None or end_col is None:
            return ast.unparse(node)
        lines = self._lines[node.lineno - 1 : end_line]
        if not lines:
            return ast.unparse(node)
        # ast's offsets count UTF-8 bytes
        first, last = lines[0].encode(), lines[-1].encode()
        if len(lines) == 1:
            return first[node.col_offset : end_col].decode(errors="replace")
        middle = "".join(lines[1:-1])
        head = first[node.col_offset :].decode(errors="replace")
        return head + middle + last[:end_col].decode(errors="replace")

    # -- what a `**kwargs` dict holds: True (a timeout), False (known, none), None (unknown) --

    def _dict_has_timeout(self, expr: ast.AST, place: _Place, depth: int) -> bool | None:
        if depth > 3:
            return None
        if isinstance(expr, ast.Dict):
            if any(_is_timeout_key(k) for k in expr.keys):
                return True
            merged = [
                self._dict_has_timeout(v, place, depth + 1)
                for k, v in zip(expr.keys, expr.values, strict=True)
                if k is None
            ]
            return _combine([False, *merged])
        if isinstance(expr, ast.Call):
            if self.name_of(expr.func) == "dict":
                if any(k.arg == "timeout" for k in expr.keywords):
                    return True
                parts = [self._dict_has_timeout(a, place, depth + 1) for a in expr.args]
                parts += [
                    self._dict_has_timeout(k.value, place, depth + 1)
                    for k in expr.keywords
                    if k.arg is None
                ]
                return _combine([False, *parts])
            return self._returned_dict(expr, depth)
        if isinstance(expr, ast.Name):
            return self._variable_has_timeout(expr.id, place, depth)
        return None

    def _returned_dict(self, call: ast.Call, depth: int) -> bool | None:
        """What a function or method of this file returns (`self._options()`, `options()`)."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id not in ("self", "cls"):
                return None
            name = func.attr
        elif isinstance(func, ast.Name):
            name = func.id
        else:
            return None
        definitions = self.functions.get(name, [])
        if len(definitions) != 1:
            return None  # unknown, or several with that name: not sure which one runs
        function = definitions[0]
        returns = [r.value for r in _own_nodes(function) if isinstance(r, ast.Return)]
        if not returns or any(value is None for value in returns):
            return None
        inside = _Place(function, function.end_lineno or function.lineno)
        return _combine([self._dict_has_timeout(v, inside, depth + 1) for v in returns if v])

    def _variable_has_timeout(self, name: str, place: _Place, depth: int) -> bool | None:
        scope = place.scope
        if isinstance(scope, _Function) and name in _parameters(scope):
            return None  # the caller's: it may carry a timeout
        verdicts = [
            verdict
            for node in _own_nodes(scope)
            for written, verdict in [self._write(node, name, place, depth)]
            if written
        ]
        if not verdicts:
            if not isinstance(scope, ast.Module):
                return self._variable_has_timeout(name, _Place(self.tree, place.line), depth + 1)
            return None
        return _combine(verdicts)

    def _write(
        self, node: ast.AST, name: str, place: _Place, depth: int
    ) -> tuple[bool, bool | None]:
        """Whether `node` may change the dict `name`, and if so whether it leaves a timeout
        in it (None: cannot tell)."""
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _is_name(target, name):
                    if node.value is None:
                        return True, None
                    return True, self._dict_has_timeout(node.value, place, depth + 1)
                if isinstance(target, ast.Subscript) and _is_name(target.value, name):
                    key = target.slice
                    if _is_timeout_key(key):
                        return True, True
                    return True, False if isinstance(key, ast.Constant) else None
                if _binds(target, name):
                    return True, None  # unpacked from something else
            return False, None
        if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension | ast.NamedExpr):
            return (True, None) if _binds(node.target, name) else (False, None)
        if isinstance(node, ast.withitem):
            bound = node.optional_vars is not None and _binds(node.optional_vars, name)
            return (True, None) if bound else (False, None)
        if isinstance(node, ast.Global | ast.Nonlocal):
            return (True, None) if name in node.names else (False, None)
        if not isinstance(node, ast.Call):
            return False, None
        func = node.func
        if isinstance(func, ast.Attribute) and _is_name(func.value, name):
            if func.attr == "update":
                if any(k.arg == "timeout" for k in node.keywords):
                    return True, True
                parts = [self._dict_has_timeout(a, place, depth + 1) for a in node.args]
                return True, _combine([False, *parts])
            if func.attr == "setdefault":
                return True, bool(node.args) and _is_timeout_key(node.args[0])
            return False, None
        # handed to another function before the call: that one may add a timeout
        passed = any(_is_name(a, name) for a in node.args) or any(
            _is_name(k.value, name) for k in node.keywords if k.arg is not None
        )
        return (True, None) if passed and node.lineno < place.line else (False, None)


def _combine(verdicts: list[bool | None]) -> bool | None:
    if any(v is True for v in verdicts):
        return True
    if any(v is None for v in verdicts):
        return None
    return False


def _is_timeout_key(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "timeout"


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _binds(target: ast.AST, name: str) -> bool:
    """Whether an assignment target (a name, a tuple of them, `*rest`...) binds `name`."""
    return any(_is_name(n, name) for n in ast.walk(target))


def _parameters(function: _Function) -> set[str]:
    args = function.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    return names


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's (or the module's) body, not those of functions inside it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _Function | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def _add_aliases(node: ast.Import | ast.ImportFrom, aliases: dict[str, str]) -> None:
    """Record the local names an import binds -> the dotted names they stand for."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                aliases[alias.asname] = alias.name
    elif node.module and not node.level:
        for alias in node.names:
            aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"


def _line_numbers(source: str, pattern: re.Pattern[str]) -> list[int]:
    """The 1-based numbers of the lines where `pattern` matches, in order."""
    numbers: list[int] = []
    line, position = 1, 0
    for m in pattern.finditer(source):
        line += source.count("\n", position, m.start())
        position = m.start()
        if not numbers or numbers[-1] != line:
            numbers.append(line)
    return numbers


def _descend(tree: ast.Module, lines: list[int]) -> Iterator[tuple[ast.AST, ast.AST]]:
    """The nodes (with their enclosing function, or the module) whose lines include one of
    `lines`; subtrees that hold none of them are skipped."""
    if not lines:
        return
    stack: list[tuple[ast.AST, ast.AST]] = [(tree, tree)]
    while stack:
        node, scope = stack.pop()
        yield node, scope
        inner = node if isinstance(node, _Function) else scope
        for child in ast.iter_child_nodes(node):
            start = getattr(child, "lineno", None)
            if start is not None:
                end = getattr(child, "end_lineno", None) or start
                i = bisect_left(lines, start)
                if i == len(lines) or lines[i] > end:
                    continue
            stack.append((child, inner))
