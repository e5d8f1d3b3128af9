"""JavaScript / TypeScript and Go settings with a fallback for an unset environment variable,
found on the ast-grep tree.

JavaScript: `process.env.X || "k"`, `process.env.X ?? true`, `X ? X : "k"`, `const { X = "k" } =
process.env`, `config.get("X", "k")`, zod's `.default("k")` and envalid's `str({ default: "k" })`
(its `devDefault` is for development only). Go: `getEnv("X", "k")`-style helpers,
`cmp.Or(os.Getenv("X"), "k")`, `viper.SetDefault("x", "k")` and `x := os.Getenv("X")` followed by
`if x == "" { x = "k" }`. A fallback chosen by the environment's name (`NODE_ENV === "production"
? ... : "dev"`) is development-only; an `if` on the setting that throws or exits refuses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors.setting_values import EnvDefault, insecure, setting_kind, truthy_text
from app.engine.screen import hint

_UNKNOWN = object()
_JS_ENV = re.compile(
    r"""^(?:process\.env|import\.meta\.env)(?:\.(\w+)|\[\s*["'`](\w+)["'`]\s*\])$"""
    r"""|^Deno\.env\.get\(\s*["'](\w+)["']\s*\)$"""
)
_JS_CONFIG_GET = re.compile(r"(?:^|\.)(?:\w*[cC]onfig\w*|env)\.get(?:<[^>]*>)?$")
_ENV_HELPER = re.compile(r"^(?:get_?|must_?|lookup_?)?env\w*$|\w*(?:From|Or|With)Env$", re.I)
_GO_ENV_HELPER = re.compile(
    r"^(?:get|lookup|must|read)?_?env\w*$|\w+env(?:or|default|withdefault|ordefault)\w*$"
    r"|^getenv\w+$",
    re.I,
)
# A schema library's default: zod `z.string().default("x")`, Joi, yup, valibot, TypeBox.
_SCHEMA_DEFAULT = re.compile(r"^(?:z|zod|Joi|joi|yup|Yup|v|t|Type)\.[\s\S]*\.default$")
# a function that reads the environment (`getOptionalConfigFromEnv`, `readEnv`, `env`)
_ENV_READER = re.compile(r"(?i)env$|^(?:get|read|must)?_?env|FromEnv")
_ENVALID = frozenset({"str", "bool", "url", "host", "port", "num", "email", "json"})
_DEV_CONDITION = re.compile(
    r"NODE_ENV|APP_ENV|[Pp]roduction|[Dd]evelopment|isDev|isProd|__DEV__|\.DEV\b|\.PROD\b"
    r"|IsDevelopment|IsProduction"
)
_JS_STOP = re.compile(r"\bthrow\b|process\.exit\(")
_GO_STOP = re.compile(r"log\.Fatal|\bpanic\(|os\.Exit\(|errors\.New\(|fmt\.Errorf\(")
_TRANSPARENT = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}
)


def _literal(node: Any) -> object:
    """The value of a JavaScript or Go literal node; _UNKNOWN for anything else."""
    kind, text = node.kind(), node.text()
    if kind in {"string", "interpreted_string_literal", "raw_string_literal"}:
        return text[1:-1]
    if kind == "template_string" and "${" not in text:
        return text[1:-1]
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind in {"number", "int_literal"}:
        try:
            return int(text)
        except ValueError:
            return _UNKNOWN
    if kind == "type_conversion_expression":  # Go: []byte("secret")
        operand = node.field("operand")
        return _literal(operand) if operand is not None else _UNKNOWN
    if kind == "array":
        items = [_literal(c) for c in node.named_children()]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
    return _UNKNOWN


def _js_variable(node: Any) -> str | None:
    """The variable an expression reads: `process.env.X`, `config.get("X")`, or a project's
    reader `getOptionalConfigFromEnv("X")` (the first of the names it tries)."""
    m = _JS_ENV.match(node.text())
    if m is not None:
        return next(g for g in m.groups() if g)
    if node.kind() != "call_expression":
        return None
    function = _function(node)
    args = node.field("arguments").named_children()
    first = _literal(args[0]) if args else _UNKNOWN
    if not isinstance(first, str):
        return None
    if _JS_CONFIG_GET.search(function) and len(args) == 1:
        return first
    if _ENV_READER.search(function.rpartition(".")[2]):
        return first
    return None


def _js_variables(node: Any) -> tuple[str, ...] | None:
    """The variables an environment read, or a chain of them (`env.A || env.B`), reads."""
    if node.kind() == "binary_expression" and node.field("operator").text() in {"||", "??"}:
        left, right = _js_variables(node.field("left")), _js_variables(node.field("right"))
        return left + right if left is not None and right is not None else None
    variable = _js_variable(node)
    return None if variable is None else (variable,)


def _function(call: Any) -> str:
    function = call.field("function")
    return function.text() if function is not None else ""


# Each shape's nodes are collected (a walk of the whole tree) only when its text can be there.
_JS_FALLBACK_TEXT = re.compile(
    r"(?:process\.env|import\.meta\.env|Deno\.env\.get|[cC]onfig\w*\.get\b|(?i:env)\w*\()"
    r"[^\n]*(?:\|\||\?\?|\?\s)"
)
_JS_CALL_TEXT = re.compile(
    r"""\.default\(|\(\s*\{\s*default\s*:|\benv\s*:\s*["'`]"""
    r"""|(?:\b\w*(?i:env)\w*|\.get(?:<[^>\n]*>)?)\(\s*["'`][\w.]+["'`]\s*,"""
)
_JS_DESTRUCTURED_TEXT = re.compile(r"\}\s*=\s*(?:process|import\.meta)\.env\b")
_GO_CALL_TEXT = re.compile(
    r"""(?i:env)\w*\(\s*"[^"\n]*"\s*,|viper\.SetDefault\(|cmp\.Or\(\s*os\.Getenv"""
)


_JS_SHAPES = tuple((p, hint(p)) for p in (_JS_FALLBACK_TEXT, _JS_CALL_TEXT, _JS_DESTRUCTURED_TEXT))
_GO_SHAPE = (_GO_CALL_TEXT, hint(_GO_CALL_TEXT))


def may_have_fallbacks(ctx: FileContext) -> bool:
    """Whether a JavaScript/TypeScript or Go file can hold one of the shapes (before parsing)."""
    text = ctx.text
    if ctx.language == "go":
        pattern, screened = _GO_SHAPE
        found = ctx.search(screened, pattern, text) is not None
        return found or ("os.Getenv(" in text and '== ""' in text)
    return any(ctx.search(screened, pattern, text) is not None for pattern, screened in _JS_SHAPES)


def _candidates_js(
    root: Any, text: str
) -> Iterator[tuple[Any, str | None, tuple[str, ...], object]]:
    """(node, name given in code or None, variables, fallback) for each fallback."""
    fallbacks = _JS_FALLBACK_TEXT.search(text) is not None
    for node in root.find_all(kind="binary_expression") if fallbacks else ():
        operator = node.field("operator")
        if operator is None or operator.text() not in {"||", "??"}:
            continue
        variables = _js_variables(node.field("left"))
        if variables is not None:
            yield node, None, variables, _literal(node.field("right"))
    for node in root.find_all(kind="ternary_expression") if fallbacks else ():
        condition, consequence = node.field("condition"), node.field("consequence")
        variable = _js_variable(condition)
        if variable is not None and consequence.text() == condition.text():
            yield node, None, (variable,), _literal(node.field("alternative"))
    calls = _JS_CALL_TEXT.search(text) is not None
    for node in root.find_all(kind="call_expression") if calls else ():
        args = node.field("arguments")
        if args is None:
            continue
        values = args.named_children()
        function = _function(node)
        name = function.rpartition(".")[2]
        if len(values) == 2 and isinstance(_literal(values[0]), str):
            if _JS_CONFIG_GET.search(function) or _ENV_HELPER.match(name):
                yield node, None, (str(_literal(values[0])),), _literal(values[1])
        elif len(values) == 1 and _SCHEMA_DEFAULT.match(function):
            pair = _enclosing_pair(node)
            if pair is not None:
                yield node, pair, (pair,), _literal(values[0])
        elif len(values) == 1 and name in _ENVALID and values[0].kind() == "object":
            pair = _enclosing_pair(node)
            for entry in values[0].named_children():
                key = entry.field("key") if entry.kind() == "pair" else None
                if pair is not None and key is not None and key.text() == "default":
                    yield node, pair, (pair,), _literal(entry.field("value"))
    if _CONVICT_TEXT.search(text):
        yield from _convict_candidates(root)
    destructured = _JS_DESTRUCTURED_TEXT.search(text) is not None
    for node in root.find_all(kind="object_assignment_pattern") if destructured else ():
        declarator = node.parent().parent() if node.parent() is not None else None
        value = declarator.field("value") if declarator is not None else None
        if value is not None and _JS_ENV.match(value.text() + ".X"):
            variable = node.field("left").text()
            yield node, variable, (variable,), _literal(node.field("right"))


_CONVICT_TEXT = re.compile(r"""\benv\s*:\s*["'`]\w+["'`]""")


def _convict_candidates(root: Any) -> Iterator[tuple[Any, str | None, tuple[str, ...], object]]:
    """convict's schema: `jwtSecret: { format: String, default: "x", env: "JWT_SECRET" }`."""
    for obj in root.find_all(kind="object"):
        entries = {
            str(key.text()).strip("\"'`"): value
            for pair in obj.named_children()
            if pair.kind() == "pair"
            and (key := pair.field("key")) is not None
            and (value := pair.field("value")) is not None
        }
        variable = _literal(entries["env"]) if "env" in entries else _UNKNOWN
        if isinstance(variable, str) and "default" in entries:
            yield obj, _enclosing_pair(obj), (variable,), _literal(entries["default"])


def _enclosing_pair(node: Any) -> str | None:
    """The key of the object entry the value is in, through a method chain that continues after
    it (`JWT_SECRET: Joi.string().default("x").description("...")`)."""
    parent = node.parent()
    while parent is not None and parent.kind() in {"member_expression", "call_expression"}:
        parent = parent.parent()
    if parent is not None and parent.kind() == "pair":
        return str(parent.field("key").text()).strip("\"'`")
    return None


def _climb(node: Any, value: object) -> tuple[str | None, object]:
    """The name the code gives the value (a key, a variable, an assigned property) and the value
    after the comparisons and conversions applied on the way up."""
    current = node
    for _ in range(8):
        parent = current.parent()
        if parent is None:
            return None, value
        kind = parent.kind()
        if kind in _TRANSPARENT:
            pass
        elif kind == "pair":
            return parent.field("key").text().strip("\"'`"), value
        elif kind == "variable_declarator":
            name = parent.field("name")
            return (name.text() if name.kind() == "identifier" else None), value
        elif kind in {"assignment_expression", "public_field_definition"}:
            left = parent.field("left") or parent.field("name")
            return (left.text().rpartition(".")[2] if left is not None else None), value
        elif kind == "binary_expression":
            value = _compared(parent, current, value)
        elif kind == "unary_expression" and parent.text().startswith("!"):
            value = not value if value is not _UNKNOWN else _UNKNOWN
        elif kind == "member_expression" and parent.field("object") == current:
            value = _method(parent.field("property").text(), value)
            grand = parent.parent()
            if grand is None or grand.kind() != "call_expression":
                return None, _UNKNOWN
            parent = grand
        elif kind == "arguments" and len(parent.named_children()) == 1:
            call = parent.parent()
            value = _converted(_function(call).rpartition(".")[2], value)
            parent = call
        else:
            return None, value
        current = parent
    return None, value


def _compared(binary: Any, side: Any, value: object) -> object:
    operator = binary.field("operator").text()
    other = binary.field("right") if binary.field("left") == side else binary.field("left")
    literal = _literal(other)
    if operator in {"===", "=="} and literal is not _UNKNOWN and value is not _UNKNOWN:
        return value == literal
    if operator in {"!==", "!="} and literal is not _UNKNOWN and value is not _UNKNOWN:
        return value != literal
    return _UNKNOWN


def _method(name: str, value: object) -> object:
    if not isinstance(value, str):
        return _UNKNOWN
    if name == "split":
        return value.split(",")
    if name == "toLowerCase":
        return value.lower()
    if name == "toUpperCase":
        return value.upper()
    if name == "trim":
        return value.strip()
    return _UNKNOWN


def _converted(function: str, value: object) -> object:
    lowered = function.lower()
    if function == "Boolean":
        return bool(value) if value is not _UNKNOWN else _UNKNOWN
    if function == "String":
        return value if isinstance(value, str) else _UNKNOWN
    if "bool" in lowered and isinstance(value, (str, bool)):
        return truthy_text(value) if isinstance(value, str) else value
    if function == "JSON.parse" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return _UNKNOWN
    return _UNKNOWN


def _in_development_branch(node: Any) -> bool:
    for ancestor in node.ancestors():
        kind = ancestor.kind()
        if kind in {"ternary_expression", "if_statement", "conditional_expression"}:
            condition = ancestor.field("condition")
            if condition is not None and _DEV_CONDITION.search(condition.text()):
                return True
        if kind in {"program", "source_file", "function_declaration", "method_definition"}:
            return False
    return False


def _refused(root: Any, found: EnvDefault, stop: re.Pattern[str]) -> bool:
    names = {found.setting, *found.variables}
    if found.fallback:
        names.add(found.fallback)
    for node in root.find_all(kind="if_statement"):
        condition = node.field("condition")
        consequence = node.field("consequence")
        if condition is None or consequence is None or not stop.search(consequence.text()):
            continue
        text = condition.text()
        if any(re.search(rf"\b{re.escape(n)}\b", text) for n in names if n):
            return True
    return False


def _finding(
    node: Any, target: str | None, variables: tuple[str, ...], value: object
) -> EnvDefault | None:
    if value is _UNKNOWN:
        return None
    kind_and_name = setting_kind(target, variables)
    if kind_and_name is None:
        return None
    kind, setting = kind_and_name
    shown = insecure(kind, setting, value)
    if shown is None:
        return None
    fallback = value if isinstance(value, str) else ""
    line = node.range().start.line + 1
    return EnvDefault(kind, line, setting, variables, shown, fallback)


def _once(found: list[EnvDefault]) -> list[EnvDefault]:
    """The first of several fallbacks for the same variables (one fix covers them)."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for f in sorted(found, key=lambda f: f.line):
        if (f.kind, f.variables) not in seen:
            seen.add((f.kind, f.variables))
            out.append(f)
    return out


def js_env_defaults(root: Any, text: str) -> list[EnvDefault]:
    """Insecure fallbacks of JavaScript/TypeScript settings (ast-grep root of `text`)."""
    out: list[EnvDefault] = []
    for node, given, variables, fallback in _candidates_js(root, text):
        target, value = (given, fallback) if given else _climb(node, fallback)
        found = _finding(node, target, variables, value)
        if found is not None and not _in_development_branch(node):
            out.append(found)
    return _once([f for f in out if not _refused(root, f, _JS_STOP)])


def _go_candidates(root: Any, text: str) -> Iterator[tuple[Any, str, object]]:
    assigned: dict[str, str] = {}
    getenv = "os.Getenv(" in text and '== ""' in text
    if _GO_CALL_TEXT.search(text) is None and not getenv:
        return
    for node in root.find_all(kind="call_expression"):
        function = node.field("function").text()
        args = node.field("arguments").named_children()
        name = function.rpartition(".")[2]
        first = _literal(args[0]) if args else _UNKNOWN
        if function == "os.Getenv" and isinstance(first, str):
            holder = _go_assigned_name(node)
            if holder:
                assigned[holder] = first
        elif (
            len(args) == 2
            and isinstance(first, str)
            and (_GO_ENV_HELPER.match(name) or function == "viper.SetDefault")
        ):
            yield node, first, _literal(args[1])
        elif function == "cmp.Or" and len(args) == 2 and args[0].text().startswith("os.Getenv("):
            inner = args[0].field("arguments").named_children()
            if inner and isinstance(_literal(inner[0]), str):
                yield node, str(_literal(inner[0])), _literal(args[1])
    if not assigned or '== ""' not in text:
        return
    for node in root.find_all(kind="if_statement"):
        m = re.fullmatch(r'([\w.]+)\s*==\s*""', node.field("condition").text())
        if m is None or m.group(1) not in assigned:
            continue
        consequence = node.field("consequence")
        for statement in consequence.find_all(kind="assignment_statement"):
            left, right = statement.field("left"), statement.field("right")
            if left.text() == m.group(1) and len(right.named_children()) == 1:
                yield statement, assigned[m.group(1)], _literal(right.named_children()[0])
        # `if secret == "" { return "fallback" }` in a getter
        for statement in consequence.find_all(kind="return_statement"):
            values = statement.named_children()
            if len(values) == 1 and len(values[0].named_children()) == 1:
                yield statement, assigned[m.group(1)], _literal(values[0].named_children()[0])


def _go_assigned_name(call: Any) -> str | None:
    parent = call.parent()
    if parent is not None and parent.kind() == "expression_list":
        holder = parent.parent()
        if holder is not None and holder.kind() in {
            "short_var_declaration",
            "assignment_statement",
            "var_spec",
        }:
            left = holder.field("left") or holder.field("name")
            return left.text() if left is not None else None
    return None


def _go_target(node: Any) -> str | None:
    """The struct field or variable a Go value is given to."""
    if node.kind() == "assignment_statement":
        return str(node.field("left").text().rpartition(".")[2])
    parent = node.parent()
    holder = parent.parent() if parent is not None else None
    if parent is None or holder is None:
        return None
    if parent.kind() == "literal_element" and holder.kind() == "keyed_element":
        return str(holder.named_children()[0].text())
    if parent.kind() == "expression_list" and holder.kind() in {
        "short_var_declaration",
        "assignment_statement",
    }:
        return str(holder.field("left").text().rpartition(".")[2])
    if parent.kind() == "expression_list" and holder.kind() == "var_spec":
        return str(holder.field("name").text())
    return None


def go_env_defaults(root: Any, text: str) -> list[EnvDefault]:
    """Insecure fallbacks of Go settings (ast-grep root of `text`)."""
    out: list[EnvDefault] = []
    for node, variable, fallback in _go_candidates(root, text):
        target = _go_target(node)
        found = _finding(node, target, (variable,), fallback)
        if found is not None and not _in_development_branch(node):
            out.append(found)
    return _once([f for f in out if not _refused(root, f, _GO_STOP)])
