"""An administrator account created with a fixed password: by a migration, by application code
at start-up, by an image build, or by a setup or seed script.

Shapes: Django's `create_superuser("admin", "admin@example.com", "admin")`; a user created with
`password="..."` (or a hash of a literal: `make_password("admin")`, `bcrypt.hashSync("admin",
10)`) and an administrator marker (`is_superuser=True`, `role: "admin"`, `roles: [Role.ADMIN]`, a
user named admin); a SQL `INSERT INTO users (...)` whose password column holds a password hash
(bcrypt, argon2, PBKDF2, `{noop}...`) in a row marked as an administrator; a command line that
creates an administrator with `--password <literal>` or runs `createsuperuser` with
`DJANGO_SUPERUSER_PASSWORD` set to a literal.

Where it runs decides the rule (`options.where`): `install` (migrations, Spring's `data.sql`,
Dockerfiles, application code: every installation gets the account) or `setup` (seed files,
management commands and scripts, shell scripts: someone has to run them). Tests, fixtures and
development or example files are never reported.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.detectors.setting_values import production_path
from app.engine.line_counter import LineCounter
from app.engine.model import Hit
from app.engine.screen import hint

_CANDIDATE = re.compile(
    r"create_?superuser|createsuperuser|create_?admin|--password[= ]|superuser_password"
    r"""|set_password\(\s*[brf]?["']"""
    r"""|passw\w*["'\]]?\s*[:=]\s*(?:await\s+)?[\w.]*\(?\s*[brf]?["'`]"""
    r"|\$2[abxy]?\$\d\d\$|pbkdf2_sha|\$argon2|\{noop\}|\{bcrypt\}"
)
_CANDIDATE_HINT = hint(_CANDIDATE, lowered=True)

_PASSWORD_KEY = re.compile(
    r"^(?:password|passwd|pwd|password_?hash|hashed_?password|encrypted_?password"
    r"|password_?digest|crypted_?password)$",
    re.I,
)
_ADMIN_WORD = re.compile(r"admin|superuser|super_user|root", re.I)
_ADMIN_FLAG = re.compile(
    r"^(?:is_?)?(?:superuser|super_?admin|admin|staff|is_?staff|owner)$|^(?:role|roles|user_?role"
    r"|user_?type|type|group|groups|authorities|authority|permissions?)$",
    re.I,
)
_NAME_KEY = re.compile(r"^(?:username|user_?name|login|email|name)$", re.I)
# What creates or stores an account (a constructor, an ORM or repository call); an object with a
# password that is not handed to one is a form preset, a mock or a login request.
_CREATES = re.compile(
    r"create|insert|upsert|save|register|sign_?up|add|bulk|User$|Admin$|Account$|Member$|Staff$",
    re.I,
)
# A function that hashes the password it is given (`make_password`, `bcrypt.hashSync`).
_HASHING = re.compile(r"hash|crypt|make_password|digest", re.I)
_SUPERUSER_CALL = re.compile(r"^a?create_?(?:superuser|super_?admin|admin(?:_?user)?)$", re.I)
_PASSWORD_HASH = re.compile(
    r"^(?:\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$\S+|pbkdf2_sha\d+\$\d+\$\S+"
    r"|\{(?:noop|bcrypt|sha256|pbkdf2|scrypt|argon2)\}\S+|\$[56]\$\S+|scrypt:\S+"
    r"|[a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$"
)


def _literal_password(node: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    """A fixed password: a non-empty literal (or a name assigned one), or a hashing call of one."""
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and node.value:
        value = node.value if isinstance(node.value, str) else node.value.decode(errors="replace")
        return None if value.startswith("!") else value  # Django's unusable password
    if isinstance(node, ast.Call) and node.args and _HASHING.search(_called(node)):
        return _literal_password(node.args[0], constants)
    if isinstance(node, ast.Await):
        return _literal_password(node.value, constants)
    return None


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_admin_value(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        value = node.value
        return value is True or (isinstance(value, str) and bool(_ADMIN_WORD.search(value)))
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return any(_is_admin_value(e) for e in node.elts)
    if isinstance(node, ast.Attribute):
        return bool(_ADMIN_WORD.search(node.attr))
    return False


def _python_candidates(tree: ast.Module | None) -> Iterator[tuple[int, str]]:
    if tree is None:
        return
    # one walk: the calls, the functions, the names assigned a string literal
    # (`DJANGO_SU_PASSWORD = "admin"`) and whether any password is set on an object at all
    calls: list[ast.Call] = []
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    constants: dict[str, ast.expr] = {}
    sets_password = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(node)
            func = node.func
            sets_password = sets_password or (
                isinstance(func, ast.Attribute) and func.attr == "set_password"
            )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    constants[target.id] = node.value
            elif isinstance(target, ast.Attribute) and _PASSWORD_KEY.match(target.attr):
                sets_password = True
    for node in calls:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        password_node = next((v for k, v in keywords.items() if _PASSWORD_KEY.match(k)), None)
        if _SUPERUSER_CALL.match(name):
            if password_node is None and len(node.args) >= 3:
                password_node = node.args[2]
            if password_node is not None and _literal_password(password_node, constants):
                yield node.lineno, name
            continue
        if password_node is None or not _CREATES.search(name):
            continue
        if not _literal_password(password_node, constants):
            continue
        if any(_marks_admin(k, v) for k, v in keywords.items()):
            yield node.lineno, name or "user"
    if sets_password:  # an account built step by step needs a password set on it
        for scope in functions:
            yield from _assembled_accounts(scope, constants)


def _assembled_accounts(
    scope: ast.FunctionDef | ast.AsyncFunctionDef, constants: dict[str, ast.expr]
) -> Iterator[tuple[int, str]]:
    """An account built step by step in one function: `user = User(username="admin")`,
    `user.set_password("admin")` (or `user.password = make_password(...)`), `user.is_superuser =
    True`: the line of the password, when the same variable is also made an administrator."""
    passwords: dict[str, int] = {}
    admins: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                node.func.attr == "set_password"
                and isinstance(owner, ast.Name)
                and node.args
                and _literal_password(node.args[0], constants)
            ):
                passwords.setdefault(owner.id, node.lineno)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                owner_name, attr = target.value.id, target.attr
                if _PASSWORD_KEY.match(attr) and _literal_password(value, constants):
                    passwords.setdefault(owner_name, node.lineno)
                elif _marks_admin(attr, value):
                    admins.add(owner_name)
            elif (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Call)
                and any(k.arg and _marks_admin(k.arg, k.value) for k in value.keywords)
            ):
                admins.add(target.id)
    for owner_name, line in passwords.items():
        if owner_name in admins:
            yield line, "set_password"


def _marks_admin(key: str, value: ast.expr) -> bool:
    """`is_superuser=True`, `role="admin"`, `username="admin"`."""
    if _ADMIN_FLAG.match(key):
        return _is_admin_value(value)
    return bool(
        _NAME_KEY.match(key)
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
        and value.value.lower().startswith("admin")
    )


def _js_literal_password(node: Any) -> bool:
    kind = node.kind()
    if kind in {"string", "template_string"}:
        return len(node.text()) > 2 and "${" not in node.text()
    if kind == "await_expression":
        inner = node.named_children()
        return bool(inner) and _js_literal_password(inner[0])
    if kind == "call_expression":
        function = node.field("function")
        if function is None or not _HASHING.search(str(function.text()).rpartition(".")[2]):
            return False
        args = node.field("arguments")
        values = args.named_children() if args is not None else []
        return bool(values) and _js_literal_password(values[0])
    return False


def _js_is_admin(key: str, value: Any) -> bool:
    text = value.text()
    if _ADMIN_FLAG.match(key):
        if value.kind() == "true":
            return True
        return value.kind() != "identifier" and _ADMIN_WORD.search(text) is not None
    if _NAME_KEY.match(key) and value.kind() == "string":
        return bool(text.strip("\"'`").lower().startswith("admin"))
    return False


_JS_MEMBER_PASSWORD = re.compile(r"\.\s*password\w*\s*=[^=]", re.I)


def _js_candidates(root: Any, text: str) -> Iterator[tuple[int, str]]:
    for obj in root.find_all(kind="object"):
        entries = [
            (str(key.text()).strip("\"'`"), value)
            for pair in obj.named_children()
            if pair.kind() == "pair"
            and (key := pair.field("key")) is not None
            and (value := pair.field("value")) is not None
        ]
        fixed = any(_PASSWORD_KEY.match(k) and _js_literal_password(v) for k, v in entries)
        if fixed and any(_js_is_admin(k, v) for k, v in entries):
            creator = _js_creator(obj)
            if creator is not None:
                yield obj.range().start.line + 1, creator

    if _JS_MEMBER_PASSWORD.search(text):
        yield from _js_assembled_accounts(root)


def _js_assembled_accounts(root: Any) -> Iterator[tuple[int, str]]:
    """`user.password = "admin"; user.roles = ["ADMIN"]; await repo.save(user)`: a password
    and an administrator marker assigned to the same object in one function."""
    passwords: dict[tuple[int, str], int] = {}
    admins: set[tuple[int, str]] = set()
    for node in root.find_all(kind="assignment_expression"):
        left, right = node.field("left"), node.field("right")
        if left is None or right is None or left.kind() != "member_expression":
            continue
        owner, key = left.field("object"), left.field("property")
        if owner is None or key is None:
            continue
        scope = next(
            (a.range().start.index for a in node.ancestors() if a.kind() == "statement_block"), -1
        )
        if _PASSWORD_KEY.match(key.text()) and _js_literal_password(right):
            passwords.setdefault((scope, owner.text()), node.range().start.line + 1)
        elif _js_is_admin(key.text(), right):
            admins.add((scope, owner.text()))
    for owner_in_scope, line in passwords.items():
        if owner_in_scope in admins:
            yield line, "user"


def _js_creator(obj: Any) -> str | None:
    """The create/insert call (or `new User(...)`) the object is handed to, through at most
    two enclosing objects or arrays (`create({ data: {...} })`, `bulkInsert("users", [{...}])`)."""
    node = obj
    for _ in range(6):
        node = node.parent()
        if node is None:
            return None
        kind = node.kind()
        if kind in {"call_expression", "new_expression"}:
            callee = node.field("function") or node.field("constructor")
            name = str(callee.text()).rpartition(".")[2] if callee is not None else ""
            return name if _CREATES.search(name) else None
        if kind not in {"arguments", "pair", "object", "array", "await_expression"}:
            return None
    return None


_GO_CREATES = re.compile(r"\b(?:Create|Insert|Save|Register|Add)\w*\(")


def _go_candidates(root: Any, text: str) -> Iterator[tuple[int, str]]:
    """`model.Account{Username: "admin", Password: "gopher", Owner: true}` in a function that
    creates or saves something."""
    if not _GO_CREATES.search(text):
        return
    for literal in root.find_all(kind="composite_literal"):
        body = literal.field("body")
        if body is None:
            continue
        entries = []
        for element in body.named_children():
            parts = element.named_children() if element.kind() == "keyed_element" else []
            if len(parts) == 2 and parts[1].named_children():
                entries.append((str(parts[0].text()), parts[1].named_children()[0]))
        fixed = any(
            _PASSWORD_KEY.match(k)
            and v.kind() == "interpreted_string_literal"
            and len(v.text()) > 2
            for k, v in entries
        )
        admin = any(
            (_ADMIN_FLAG.match(k) and ("true" in v.text() or _ADMIN_WORD.search(v.text())))
            or (_NAME_KEY.match(k) and str(v.text()).strip('"').lower().startswith("admin"))
            for k, v in entries
        )
        function = next(
            (
                a
                for a in literal.ancestors()
                if a.kind() in {"function_declaration", "method_declaration"}
            ),
            None,
        )
        if fixed and admin and function is not None and _GO_CREATES.search(function.text()):
            yield literal.range().start.line + 1, "account"


_INSERT = re.compile(
    r"insert\s+into\s+[`\"\[]?(?:\w+[`\"\]]?\.)?[`\"\[]?(?P<table>\w+)[`\"\]]?\s*"
    r"\((?P<columns>[^)]*)\)\s*(?P<how>values|select)\s*",
    re.I,
)
_ACCOUNT_TABLE = re.compile(
    r"user|account|admin|member|staff|operator|principal|person|login", re.I
)


def _sql_rows(text: str, start: int) -> Iterator[tuple[int, list[str]]]:
    """(offset, values) of each parenthesised row of a VALUES list starting at `start`."""
    i, n = start, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] != "(":
            return
        row_start, values, current, depth, i = i, [], [], 0, i + 1
        while i < n:
            ch = text[i]
            if ch == "'":
                end = i + 1
                while end < n and not (text[end] == "'" and text[end + 1 : end + 2] != "'"):
                    end += 2 if text[end] == "'" else 1
                current.append(text[i : end + 1])
                i = end + 1
                continue
            if ch == "(":
                depth += 1
            elif ch == ")" and depth == 0:
                values.append("".join(current).strip())
                i += 1
                break
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 0:
                values.append("".join(current).strip())
                current = []
                i += 1
                continue
            current.append(ch)
            i += 1
        yield row_start, values


_SELECT_END = re.compile(r"\bfrom\b|;", re.I)


def _inserted_rows(text: str, insert: re.Match[str]) -> Iterator[tuple[int, list[str]]]:
    """The rows of `INSERT ... VALUES (...), (...)`, or the one of `INSERT ... SELECT a, b FROM`."""
    if insert.group("how").lower() == "values":
        yield from _sql_rows(text, insert.end())
        return
    end = _SELECT_END.search(text, insert.end())
    selected = text[insert.end() : end.start() if end else len(text)]
    for _, values in _sql_rows(f"({selected})", 0):
        yield insert.end(), values


def _sql_candidates(text: str) -> Iterator[tuple[int, str]]:
    for m in _INSERT.finditer(text):
        table = m.group("table")
        columns = [c.strip().strip('`"[]') for c in m.group("columns").split(",")]
        password_at = [i for i, c in enumerate(columns) if _PASSWORD_KEY.match(c)]
        if not password_at or not _ACCOUNT_TABLE.search(table):
            continue
        for offset, values in _inserted_rows(text, m):
            if len(values) != len(columns):
                continue
            hashed = any(_PASSWORD_HASH.match(values[i].strip("'")) for i in password_at)
            admin = bool(_ADMIN_WORD.search(table)) or any(
                _ADMIN_WORD.search(v)
                or (_ADMIN_FLAG.match(c) and v.strip("'").lower() in {"true", "1", "t"})
                for c, v in zip(columns, values, strict=True)
            )
            if hashed and admin:
                yield text.count("\n", 0, offset) + 1, f"INSERT INTO {table}"


_SHELL_SUPERUSER = re.compile(
    r"""create_superuser\(\s*(['"])[^'"]*\1\s*,\s*(['"])[^'"]*\2\s*,\s*(['"])[^'"$]+\3"""
    r"""|create_superuser\([^)\n]*password\s*=\s*(['"])[^'"$]+\4"""
)
_CLI_ADMIN = re.compile(
    r"(?:create-?admin|create_admin|createsuperuser|create-?superuser|users?\s+create|createuser"
    r"|add-?user|adduser)[^\n]*--password[= ]+(['\"]?)(?P<password>[^\s'\"$]+)\1",
    re.I,
)
_ENV_SUPERUSER_PASSWORD = re.compile(
    r"""DJANGO_SUPERUSER_PASSWORD["']?\s*[=:]\s*["']?(?P<password>[^\s"'$]+)"""
)


def _command_candidates(text: str) -> Iterator[tuple[int, str]]:
    # a continued command line is one line for the patterns; the mark keeps the line count
    joined = text.replace("\\\n", "\\\x1f")

    newlines, marks = LineCounter(joined), LineCounter(joined, "\x1f")

    def line_of(offset: int) -> int:
        return newlines.line_of(offset) + marks.line_of(offset) - 1

    for m in _SHELL_SUPERUSER.finditer(joined):
        yield line_of(m.start()), "create_superuser"
    for m in _CLI_ADMIN.finditer(joined):
        if _ADMIN_WORD.search(m.group(0)):
            yield line_of(m.start()), "administrator command"
    if "createsuperuser" in text:
        lines = LineCounter(text)
        for m in _ENV_SUPERUSER_PASSWORD.finditer(text):
            yield lines.line_of(m.start()), "createsuperuser"


def _candidates(ctx: FileContext) -> list[tuple[int, str]]:
    """The accounts made with a fixed password in this file (computed once: two rules ask)."""
    known = ctx.memo.get(_candidates)
    if known is None:
        known = ctx.memo[_candidates] = _candidates_of(ctx)
    return list(known)


def _candidates_of(ctx: FileContext) -> list[tuple[int, str]]:
    language, text = ctx.language, ctx.text
    if language == "python":
        found = list(_python_candidates(ctx.python_ast))
    elif language in {"javascript", "typescript", "tsx"}:
        found = list(_js_candidates(ctx.sg_root, text))
    elif language == "go":
        found = list(_go_candidates(ctx.sg_root, text)) if _GO_CREATES.search(text) else []
    elif language == "sql":
        found = list(_sql_candidates(text))
    else:
        found = list(_command_candidates(text))
    return sorted(set(found))


# Words of a path that make it a setup step someone runs (`prisma/seed.ts`, `demo_data.py`,
# `populate_db.py`, `seeders/`), not code that runs on every installation.
_SETUP_WORDS = frozenset(
    {"seed", "seeds", "seeder", "seeders", "seeding", "demo", "sample", "samples", "populate",
     "populatedb", "dummy", "fake", "faker", "mock", "mocks"}
)  # fmt: skip
_CODE = frozenset({"python", "javascript", "typescript", "go"})  # not tsx / jsx: components
_LANGUAGES = _CODE | {"sql", "shell", "dockerfile", "yaml", "compose"}


def runs_on_every_install(ctx: FileContext) -> bool:
    """A migration, Spring's start-up SQL, an image build, or application code; not a seed,
    a script, a management command or a shell script that someone has to run."""
    name = ctx.path.lower().rpartition("/")[2]
    if "migration" in ctx.roles:
        return True
    if ctx.language == "dockerfile":
        return True
    if ctx.language == "sql":
        return name in {"data.sql", "import.sql"}
    if ctx.language not in _CODE:
        return False
    # Go's cmd/ holds the programs' main packages (the server itself), not scripts
    if "cli" in ctx.roles and ctx.language != "go":
        return False
    words = re.split(r"[^a-z0-9]+", ctx.path.lower())
    return not _SETUP_WORDS.intersection(words)


@file_detector("default_admin_credentials", needs=_CANDIDATE_HINT)
def default_admin_credentials(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """Administrators created with a fixed password, where `options["where"]` says they are
    created: `install` (every installation) or `setup` (a script someone runs)."""
    if not ctx.may_match(_CANDIDATE_HINT) or ctx.language not in _LANGUAGES:
        return
    if ctx.path.endswith(".jsx"):
        return
    if not production_path(ctx.path):
        return
    if ctx.seen is None:
        lowered = ctx.lower_text if ctx.lower_text is not None else ctx.text.lower()
        if not _CANDIDATE.search(lowered):
            return
    wanted = options.get("where") == "install"
    if runs_on_every_install(ctx) != wanted:
        return
    for line, what in _candidates(ctx):
        yield Hit("", line, what, f"`{what}` with a fixed password")
