"""Python settings read from the environment, evaluated as if every variable were unset.

A settings module is read statement by statement with the stdlib `ast` (never run): an
environment read (`os.environ.get`, `os.getenv`, django-environ's `env.bool`, python-decouple's
`config`, environs, a project helper such as `get_bool_from_env`) takes its default, pydantic
settings fields take theirs, and the few operations settings code applies to them (`== "true"`,
`.lower()`, `bool(...)`, `or "changeme"`, `if not SECRET_KEY: SECRET_KEY = ...`) are followed.
What a setting then holds is judged by `setting_values`. A module that refuses the value (an `if`
or a validator on the setting that raises or exits) and branches for development or tests
(`if DEBUG:`, `class DevelopmentConfig`) are not reported.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.engine.detectors.setting_values import (
    DEBUG,
    DERIVED,
    EnvDefault,
    insecure,
    normalised,
    setting_kind,
    truthy_text,
)
from app.engine.screen import hint

if TYPE_CHECKING:
    from app.engine.context import FileContext

_UNKNOWN = object()


@dataclass(frozen=True)
class _Unset:
    """A value when the environment is empty, and the variables whose absence made it."""

    value: object = _UNKNOWN
    variables: tuple[str, ...] = ()


_NOTHING = _Unset()
# A project's own reader: `envbool`, `env_str`, `get_env`, `get_bool_from_env`, `getenv_int`;
# not a writer (`setenv`, `putenv`).
_ENV_HELPER = re.compile(
    r"^(?!_?(?:set|put|unset|del))(?:_?(?:get_?|read_?)?env|\w*env$|\w*_env_)", re.I
)
_PUBLIC_DATA = frozenset({"gethostname", "getfqdn", "node", "uname", "gethostbyname", "getuser"})
_HASHING = frozenset(
    {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "new", "uuid3",
     "uuid5", "b64encode", "urlsafe_b64encode", "encode", "hexdigest", "digest", "str", "hex"}
)  # fmt: skip
_STRING_METHODS = frozenset({"lower", "upper", "strip", "casefold", "title"})
_SETTINGS_BASE = re.compile(r"Settings$")
_DEV_TOKEN = re.compile(r"^(?:is_)?(?:debug|dev|develop|development|local|testing|test)(?:_mode)?$")
_PROD_TOKEN = re.compile(r"^(?:is_)?(?:prod|production|staging|live)$")
_VALIDATOR = frozenset({"validator", "field_validator", "root_validator", "model_validator"})
_EXIT_CALLS = frozenset({"exit", "quit", "_exit", "abort"})


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _env_read(call: ast.Call) -> tuple[str, ast.expr | None] | None:
    """(variable, its default or None) when `call` reads the environment."""
    if not call.args:
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    name = _dotted(call.func)
    receiver, _, last = name.rpartition(".")
    reads = (
        last == "getenv"
        or (last == "get" and receiver.endswith("environ"))
        or (not receiver and last in {"env", "config"})
        or receiver.rpartition(".")[2] == "env"
        or bool(_ENV_HELPER.search(last))
    )
    if not reads:
        return None
    default = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "default":
            default = keyword.value
    return first.value, default


def _derived(node: ast.expr) -> bool:
    """Computed from constants and public facts (the host name) only: hashing it hides nothing."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in {"__name__", "__file__"}
    if isinstance(node, ast.JoinedStr):
        return all(_derived(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _derived(node.value)
    if isinstance(node, ast.BinOp):
        return _derived(node.left) and _derived(node.right)
    if isinstance(node, ast.Call):
        last = _dotted(node.func).rpartition(".")[2]
        if last not in _PUBLIC_DATA and last not in _HASHING:
            return False
        inner = node.func.value if isinstance(node.func, ast.Attribute) else None
        receiver_ok = inner is None or not isinstance(inner, ast.Call) or _derived(inner)
        return receiver_ok and all(_derived(a) for a in node.args)
    return False


def _has_call(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _tokens(node: ast.AST) -> set[str]:
    """Names, attributes and strings a condition mentions."""
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.add(n.value)
    return out


def _stops(body: Iterable[ast.stmt]) -> bool:
    """Whether these statements raise or exit somewhere."""
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Raise):
                return True
            if isinstance(n, ast.Call) and _dotted(n.func).rpartition(".")[2] in _EXIT_CALLS:
                return True
    return False


def _branches(test: ast.expr) -> tuple[bool, bool]:
    """(body is development-only, else-branch is development-only) for an `if` on `test`."""
    words = {normalised(t) for t in _tokens(test)}
    dev = any(_DEV_TOKEN.match(w) for w in words)
    prod = any(_PROD_TOKEN.match(w) for w in words)
    negated = (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)) or (
        isinstance(test, ast.Compare) and isinstance(test.ops[0], (ast.NotEq, ast.NotIn))
    )
    body_dev, else_dev = dev and not prod, prod and not dev
    return (else_dev, body_dev) if negated else (body_dev, else_dev)


# A line where an environment read (or a secret computed from public data) can be: statements on
# none of them are skipped, unless they use a name already known to come from the environment.
_ENV_LINE = re.compile(r"env|config\(|field\(|hashlib|gethostname|getfqdn|uuid[35]", re.I)


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.env_lines = frozenset(i for i, line in enumerate(lines, 1) if _ENV_LINE.search(line))
        # settings whose value comes from the environment, by name
        self.known: dict[str, _Unset] = {}
        self.found: list[EnvDefault] = []
        # the class each finding is in; names a production config class sets
        self.current_class: str | None = None
        self.found_in: list[str | None] = []
        self.production_sets: set[str] = set()
        # what may refuse a value: `if`s and `assert`s, validators; judged only if something found
        self.checks: list[ast.If | ast.Assert | ast.FunctionDef | ast.AsyncFunctionDef] = []
        # django-environ's schema, `environ.Env(DEBUG=(bool, True))`: defaults by variable
        self.schema: dict[str, ast.expr] = {}
        self._reported: set[tuple[str, tuple[str, ...]]] = set()

    # -- values -------------------------------------------------------------------------
    def value(self, node: ast.expr) -> _Unset:
        if isinstance(node, ast.Constant):
            return _Unset(node.value)
        if isinstance(node, ast.Name):
            return self.known.get(node.id, _NOTHING)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.value(e) for e in node.elts]
            return _Unset([i.value for i in items], _joined(items))
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand)
            return _Unset(not inner.value, inner.variables) if _known(inner) else _NOTHING
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            test = self.value(node.test)
            if not _known(test):
                return _NOTHING
            chosen = self.value(node.body if test.value else node.orelse)
            return _Unset(chosen.value, test.variables + chosen.variables)
        if isinstance(node, ast.BinOp) and _derived(node):
            try:
                return _Unset(ast.literal_eval(node))
            except (ValueError, TypeError, SyntaxError, MemoryError):
                return _NOTHING
        if isinstance(node, ast.Call):
            return self._call(node)
        return _NOTHING

    def _bool_op(self, node: ast.BoolOp) -> _Unset:
        variables: tuple[str, ...] = ()
        result: object = _UNKNOWN
        for operand in node.values:
            current = self.value(operand)
            if not _known(current):
                return _NOTHING
            variables += current.variables
            result = current.value
            if bool(result) == isinstance(node.op, ast.Or):
                break
        return _Unset(result, variables)

    def _compare(self, node: ast.Compare) -> _Unset:
        left, right = self.value(node.left), self.value(node.comparators[0])
        if not (_known(left) and _known(right)):
            return _NOTHING
        a, b, op = left.value, right.value, node.ops[0]
        try:
            if isinstance(op, (ast.Eq, ast.Is)):
                result = a == b
            elif isinstance(op, (ast.NotEq, ast.IsNot)):
                result = a != b
            elif isinstance(op, ast.In):
                result = a in b  # type: ignore[operator]
            elif isinstance(op, ast.NotIn):
                result = a not in b  # type: ignore[operator]
            else:
                return _NOTHING
        except TypeError:
            return _NOTHING
        return _Unset(result, left.variables + right.variables)

    def _call(self, call: ast.Call) -> _Unset:
        read = _env_read(call)
        if read is not None:
            variable, default = read
            default = default if default is not None else self.schema.get(variable)
            if default is None:
                return _Unset(None, (variable,))
            inner = self.value(default)
            if not _known(inner) and _derived(default) and _has_call(default):
                inner = _Unset(DERIVED)
            return _Unset(inner.value, (variable, *inner.variables))
        name = _dotted(call.func).rpartition(".")[2]
        if isinstance(call.func, ast.Attribute) and not call.keywords:
            base = self.value(call.func.value)
            if isinstance(base.value, str) and name in _STRING_METHODS and not call.args:
                return _Unset(getattr(base.value, name)(), base.variables)
            if isinstance(base.value, str) and name == "split":
                parts = base.value.split(",") if call.args else base.value.split()
                return _Unset(parts, base.variables)
        if len(call.args) != 1 or call.keywords:
            return _NOTHING
        arg = self.value(call.args[0])
        if not _known(arg):
            return _NOTHING
        return _Unset(_cast(name, arg.value), arg.variables)

    # -- statements ---------------------------------------------------------------------
    def body(self, stmts: list[ast.stmt], dev: bool, implied: tuple[str, ...], model: bool) -> None:
        for stmt in stmts:
            self.statement(stmt, dev, implied, model)

    def statement(self, stmt: ast.stmt, dev: bool, implied: tuple[str, ...], model: bool) -> None:
        if isinstance(stmt, ast.If):
            self._if(stmt, dev, implied, model)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt, dev, implied)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(stmt, dev, implied)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            self.body(stmt.body, dev, implied, model)
            self.body(getattr(stmt, "orelse", []), dev, implied, model)
        elif isinstance(stmt, ast.Try):
            for part in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                self.body(part, dev, implied, model)
        elif isinstance(stmt, ast.Assert):
            self.checks.append(stmt)
        elif implied or model or self._worth_reading(stmt):
            self._simple(stmt, dev, implied, model)

    def _worth_reading(self, stmt: ast.stmt) -> bool:
        span = range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
        if any(n in self.env_lines for n in span):
            return True
        return bool(self.known) and any(
            name in self.lines[n - 1] for n in span for name in self.known
        )

    def _class(self, stmt: ast.ClassDef, dev: bool, implied: tuple[str, ...]) -> None:
        settings = any(_SETTINGS_BASE.search(_dotted(b)) for b in stmt.bases)
        words = _class_words(stmt.name)
        if any(_PROD_TOKEN.match(w) for w in words):
            # Flask's `class ProductionConfig(Config)`: what it sets, the base's value is not
            self.production_sets.update(
                name
                for child in stmt.body
                if isinstance(child, (ast.Assign, ast.AnnAssign))
                for target in (child.targets if isinstance(child, ast.Assign) else [child.target])
                if (name := _target_name(target))
            )
        outer, self.current_class = self.current_class, stmt.name
        dev_class = any(_DEV_TOKEN.match(w) for w in words)
        self.body(stmt.body, dev or dev_class, implied, settings)
        self.current_class = outer

    def _if(self, stmt: ast.If, dev: bool, implied: tuple[str, ...], model: bool) -> None:
        self.checks.append(stmt)
        tokens = _tokens(stmt.test)
        test = self.value(stmt.test)
        taken: tuple[str, ...] = ()
        if _known(test) and test.variables:
            taken = test.variables
        body_dev, else_dev = _branches(stmt.test)
        body_dev = body_dev or "__main__" in tokens  # `python app.py`: the development server
        truth = bool(test.value) if _known(test) else None
        self.body(stmt.body, dev or body_dev, implied + (taken if truth else ()), model)
        self.body(stmt.orelse, dev or else_dev, implied + (taken if truth is False else ()), model)

    def _function(
        self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, dev: bool, implied: tuple[str, ...]
    ) -> None:
        if any(_dotted(d).rpartition(".")[2] in _VALIDATOR for d in stmt.decorator_list):
            self.checks.append(stmt)
        self.body(stmt.body, dev, implied, False)

    def _simple(self, stmt: ast.stmt, dev: bool, implied: tuple[str, ...], model: bool) -> None:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = self.value(stmt.value)
            for target in targets:
                name = _target_name(target)
                if model and isinstance(stmt, ast.AnnAssign) and name:
                    value = self._field_default(name, stmt.value)
                elif implied and not value.variables:
                    value = _Unset(value.value, implied)
                if isinstance(target, ast.Name) and value.variables:
                    self.known[target.id] = value
                elif isinstance(target, ast.Name):
                    self.known.pop(target.id, None)
                # a settings model's private attribute (`_DEFAULT_PASSWORD: str = "..."`) is
                # not read from the environment: a constant the operator cannot change
                fixed = model and bool(name) and str(name).startswith("_")
                if fixed:
                    value = _Unset(value.value)
                if name:
                    self._consider(name, value, stmt.value, stmt.lineno, dev, fixed)
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                if _dotted(node.func).rpartition(".")[2] == "Env":
                    self._schema(node)
                for keyword in node.keywords:
                    if keyword.arg and _reads_environment(keyword.value):
                        value = self.value(keyword.value)
                        self._consider(keyword.arg, value, keyword.value, keyword.value.lineno, dev)
                for arg in node.args:
                    if isinstance(arg, ast.BoolOp | ast.Call) and _reads_environment(arg):
                        self._consider(None, self.value(arg), arg, arg.lineno, dev)
            elif isinstance(node, ast.Dict):
                for key, item in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and isinstance(key.value, str)
                        and _reads_environment(item)
                    ):
                        self._consider(key.value, self.value(item), item, item.lineno, dev)

    def _schema(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            spec = keyword.value
            if keyword.arg and isinstance(spec, ast.Tuple) and len(spec.elts) == 2:
                self.schema[keyword.arg] = spec.elts[1]

    def _field_default(self, name: str, node: ast.expr) -> _Unset:
        """A pydantic settings field's default: what the field holds when the variable is unset."""
        if isinstance(node, ast.Call) and _dotted(node.func).rpartition(".")[2] == "Field":
            chosen = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "default":
                    chosen = keyword.value
            if chosen is None:
                return _NOTHING
            node = chosen
        value = self.value(node)
        if not _known(value) and _derived(node) and _has_call(node):
            value = _Unset(DERIVED)
        return _Unset(value.value, value.variables or (name,))

    def _consider(
        self,
        name: str | None,
        value: _Unset,
        node: ast.expr,
        line: int,
        dev: bool,
        fixed: bool = False,
    ) -> None:
        if dev:
            return
        variables = value.variables
        if not variables and not fixed:
            # not from the environment: a literal is SEC001's or DEP001's; a secret computed
            # from public data is ours
            if not (_has_call(node) and _derived(node)):
                return
            value = _Unset(DERIVED)
        kind_and_name = setting_kind(name, variables)
        if kind_and_name is None or not _known(value):
            return
        kind, setting = kind_and_name
        shown = insecure(kind, setting, value.value)
        # `JWT_KEY = os.getenv("JWT_KEY", SECRET_KEY)` repeats SECRET_KEY's fallback: reported once
        origin = (kind, variables[-1:])
        if shown is None or origin in self._reported:
            return
        self._reported.add(origin)
        fallback = value.value if isinstance(value.value, str) else ""
        self.found.append(EnvDefault(kind, line, setting, variables, shown, fallback))
        self.found_in.append(self.current_class)

    def overridden(self) -> set[EnvDefault]:
        """Findings in a base config class that the production class of the module overrides."""
        return {
            found
            for found, owner in zip(self.found, self.found_in, strict=True)
            if owner is not None
            and found.setting in self.production_sets
            and not any(
                _PROD_TOKEN.match(w.lower()) for w in re.split(r"(?<=[a-z0-9])(?=[A-Z])|_", owner)
            )
        }

    def guards(self) -> list[tuple[set[str], bool]]:
        """(what the check mentions, whether it mentions production) of each check that stops
        the program (raises or exits)."""
        out = []
        for check in self.checks:
            if isinstance(check, ast.Assert):
                out.append((_tokens(check.test), True))
            elif isinstance(check, ast.If):
                if _stops(check.body) or _stops(check.orelse):
                    tokens = _tokens(check.test)
                    production = any(_PROD_TOKEN.match(normalised(t)) for t in tokens)
                    out.append((tokens, production or "ENVIRONMENT" in tokens))
            elif _stops(check.body):
                for decorator in check.decorator_list:
                    out.append((_tokens(decorator), True))
        return out


def _refused(found: EnvDefault, guards: list[tuple[set[str], bool]]) -> bool:
    """Whether a check on this setting (or its fallback) stops the program."""
    names = {found.setting, *found.variables}
    for tokens, production in guards:
        if found.kind == DEBUG and not production:
            continue
        if names & tokens or (found.fallback and found.fallback in tokens):
            return True
    return False


def _class_words(name: str) -> list[str]:
    """`ProductionConfig` -> ["production", "config"]."""
    return [w.lower() for w in re.split(r"(?<=[a-z0-9])(?=[A-Z])|_", name) if w]


def _known(value: _Unset) -> bool:
    return value.value is not _UNKNOWN


def _joined(items: list[_Unset]) -> tuple[str, ...]:
    out: tuple[str, ...] = ()
    for item in items:
        out += item.variables
    return out


def _cast(name: str, value: object) -> object:
    """The usual conversions of configuration values (`bool`, `parse_boolean`, `get_list`)."""
    lowered = name.lower()
    if name == "bool":
        return bool(value)
    if name in {"SecretStr", "SecretBytes"}:
        return value
    if name == "str":
        return str(value)
    if name in {"int", "float"}:
        try:
            return int(str(value)) if name == "int" else float(str(value))
        except ValueError:
            return _UNKNOWN
    if "bool" in lowered or lowered in {"strtobool", "asbool", "truthy"}:
        return truthy_text(value) if isinstance(value, str) else bool(value)
    if ("list" in lowered or "split" in lowered or "set" in lowered) and isinstance(value, str):
        return value.split(",")
    return value if isinstance(value, (list, tuple)) else _UNKNOWN


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _reads_environment(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) and _env_read(n) is not None for n in ast.walk(node))


# What `_nothing_to_find` needs to see absent to skip the parse: flow that can change a value
# when a variable is unset, schema defaults, computed secrets, model fields with a call.
_FLOW = re.compile(
    r"\b(?:if|or|not|in|Field|hashlib|gethostname|getfqdn|uuid3|uuid5|__main__)\b|==|!=|\bEnv\(\s*\w"
)
_SAFE = r"""(?:False|None|0|""|''|\[\]|\(\)|["'](?:false|False|0)["'])"""
# the second argument of a call whose first is a name (`env.bool("X", default=False)`)
_SECOND_ARGUMENT = re.compile(r"""\w\(\s*["'][\w.]+["']\s*,\s*(?:\w+\s*=\s*)?(?P<value>[^,)\n]*)""")
_SAFE_VALUE = re.compile(rf"{_SAFE}\s*")
_SETTINGS_CLASS = re.compile(r"^class\s+\w+\([^)\n]*Settings\)", re.M)
_FIELD_DEFAULT = re.compile(r"^\s+\w+\s*:\s*[^=\n]+=\s*(?P<value>[^#\n]*)", re.M)
# screened with the rules' patterns: RE2 finds where Python's engine need look
_FLOW_HINT = hint(_FLOW)
_SECOND_ARGUMENT_HINT = hint(_SECOND_ARGUMENT)


def _nothing_to_find(text: str, ctx: FileContext | None) -> bool:
    """True only when no setting of the module can take an insecure value: every environment
    read has no fallback or a safe one, nothing computes with them, and settings-model fields
    default to nothing or to a safe value. Spares the parse of most settings modules. `ctx`,
    the file's context when `text` is its text, lets the screen guide the searches."""
    if ctx is not None:
        flow = ctx.search(_FLOW_HINT, _FLOW, text)
        arguments = ctx.finditer(_SECOND_ARGUMENT_HINT, _SECOND_ARGUMENT, text)
    else:
        flow, arguments = _FLOW.search(text), _SECOND_ARGUMENT.finditer(text)
    if flow:
        return False
    for m in arguments:
        if not _SAFE_VALUE.fullmatch(m.group("value")):
            return False
    if _SETTINGS_CLASS.search(text):
        return all(_SAFE_VALUE.fullmatch(m.group("value")) for m in _FIELD_DEFAULT.finditer(text))
    return True


def python_env_defaults(
    text: str, parsed: Callable[[], ast.Module | None], ctx: FileContext | None = None
) -> tuple[EnvDefault, ...]:
    """Every insecure setting value of a Python module (its `text`; `parsed()` gives its tree,
    asked only when the text leaves something to find) when its environment is empty, less those
    the module refuses; () for a module `ast` cannot parse. `ctx`: the file's context, when
    `text` is its text."""
    if _nothing_to_find(text, ctx):
        return ()
    tree = parsed()
    if tree is None:
        return ()
    reader = _Reader(text.splitlines())
    reader.body(tree.body, False, (), False)
    if not reader.found:
        return ()
    guards, overridden = reader.guards(), reader.overridden()
    return tuple(
        found for found in reader.found if found not in overridden and not _refused(found, guards)
    )
