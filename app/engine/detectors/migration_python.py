"""Alembic revisions and Django migrations, read with Python's `ast` (structure, not regexes, so
black's formatting does not matter). One walk per file, cached by content; the registered
detectors in `migration_sql` pick the check they need.

Checks: `index` (CREATE INDEX without CONCURRENTLY on an existing table), `not_null` (NOT NULL
column without a default / SET NOT NULL), `destructive` (drops in an upgrade), `irreversible`
(empty downgrade), and the fact `locking-migration` for the repository-level lock_timeout check.
Django migrations are judged with Django's semantics: which added fields get a value for existing
rows is `django_fields`' call; squashed and initial migrations run on empty tables and report
nothing.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from app.engine.detectors.django_fields import needs_value_for_existing_rows
from app.engine.model import Hit, ParseProblem


@dataclass
class MigrationFindings:
    kind: str = ""  # "alembic", "django" or "" (not a migration)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    locking_line: int | None = None
    problem: ParseProblem | None = None

    def add(self, check: str, line: int, text: str, detail: str) -> None:
        self.hits.setdefault(check, []).append(Hit("", line, text, detail))


def _const(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _arg(call: ast.Call, index: int, name: str) -> ast.AST | None:
    if len(call.args) > index:
        return call.args[index]
    return _kw(call, name)


def _callee(call: ast.Call) -> tuple[str, str]:
    """(`op`, `create_index`) for `op.create_index(...)`; ("", name) for a bare name."""
    func = call.func
    if isinstance(func, ast.Attribute):
        base = func.value
        return (base.id if isinstance(base, ast.Name) else ast.unparse(base)), func.attr
    if isinstance(func, ast.Name):
        return "", func.id
    return "", ""


def _calls(tree: ast.AST) -> list[ast.Call]:
    """The calls below `tree` in `ast.walk` order (breadth first), without its generators."""
    out: list[ast.Call] = []
    queue = deque([tree])
    while queue:
        node = queue.popleft()
        if isinstance(node, ast.Call):
            out.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                queue.append(value)
            elif isinstance(value, list):
                queue.extend(item for item in value if isinstance(item, ast.AST))
    return out


def _empty_body(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring or `...`
        return False
    return True


@lru_cache(maxsize=16)
def analyse(source: str, path: str) -> MigrationFindings:
    if "def upgrade" not in source and "class Migration" not in source:
        return MigrationFindings()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return MigrationFindings(problem=ParseProblem("python", f"line {exc.lineno}: {exc.msg}"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if "upgrade" in functions and "op." in source:
        return _alembic(functions)
    if any(isinstance(n, ast.ClassDef) and n.name == "Migration" for n in tree.body):
        return _django(tree)
    return MigrationFindings()


def _contexts(upgrade: ast.FunctionDef) -> dict[int, tuple[str | None, str | None, bool]]:
    """For each call in upgrade(): (batch variable, its table, inside autocommit_block())."""
    out: dict[int, tuple[str | None, str | None, bool]] = {}

    def visit(node: ast.AST, var: str | None, table: str | None, autocommit: bool) -> None:
        if isinstance(node, ast.With):
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and _callee(expr) == ("op", "batch_alter_table"):
                    table = str(_const(_arg(expr, 0, "table_name")))
                    if isinstance(item.optional_vars, ast.Name):
                        var = item.optional_vars.id
                if "autocommit_block" in ast.unparse(expr):
                    autocommit = True
        if isinstance(node, ast.Call):
            out[id(node)] = (var, table, autocommit)
        for child in ast.iter_child_nodes(node):
            visit(child, var, table, autocommit)

    visit(upgrade, None, None, False)
    return out


_CHECK_NOT_NULL = re.compile(r"(\w+)\s+IS\s+NOT\s+NULL", re.IGNORECASE)
SQL_CHECK_NOT_NULL = re.compile(
    r"ALTER\s+TABLE\s+\"?(\w+)\"?\s+ADD\s+CONSTRAINT\s+\S+\s+CHECK\s*\(\s*\"?(\w+)\"?\s+IS\s+NOT\s+NULL",
    re.IGNORECASE,
)


def _alembic(functions: dict[str, ast.FunctionDef]) -> MigrationFindings:
    found = MigrationFindings(kind="alembic")
    upgrade = functions["upgrade"]
    calls = _calls(upgrade)
    contexts = _contexts(upgrade)
    created = {
        str(_const(_arg(c, 0, "table_name"))) for c in calls if _callee(c) == ("op", "create_table")
    }
    # the check-constraint pattern: CHECK (col IS NOT NULL) before SET NOT NULL makes it cheap
    checked: set[tuple[str, str]] = set()
    for c in calls:
        if _callee(c) == ("op", "create_check_constraint"):
            condition = str(_const(_arg(c, 2, "condition")) or "")
            for col in _CHECK_NOT_NULL.findall(condition):
                checked.add((str(_const(_arg(c, 1, "table_name"))), col))
        elif _callee(c) == ("op", "execute"):
            for table, col in SQL_CHECK_NOT_NULL.findall(str(_const(_arg(c, 0, "sqltext")) or "")):
                checked.add((table, col))
    for call in sorted(calls, key=lambda c: c.lineno):
        base, name = _callee(call)
        batch_var, batch_table, autocommit = contexts.get(id(call), (None, None, False))
        in_batch = batch_var is not None and base == batch_var
        if base != "op" and not in_batch:
            continue
        shift = 1 if in_batch else 0  # batch_op.add_column(column) has no table argument
        line = call.lineno
        if name == "create_index":
            table = batch_table if in_batch else str(_const(_arg(call, 1, "table_name")))
            concurrently = _const(_kw(call, "postgresql_concurrently")) is True
            index = _const(_arg(call, 0, "index_name"))
            if table not in created and not concurrently:
                found.add(
                    "index",
                    line,
                    f"op.create_index {index}",
                    f"op.create_index({index!r}) on {table} without postgresql_concurrently=True",
                )
            elif concurrently and not autocommit:
                found.add(
                    "index",
                    line,
                    f"op.create_index {index} concurrently",
                    f"op.create_index({index!r}, postgresql_concurrently=True) outside"
                    " autocommit_block(): CREATE INDEX CONCURRENTLY fails inside a transaction",
                )
        elif name == "add_column":
            table = batch_table if in_batch else str(_const(_arg(call, 0, "table_name")))
            column = _arg(call, 1 - shift, "column")
            if isinstance(column, ast.Call) and table not in created:
                nullable = _const(_kw(column, "nullable"))
                has_default = _kw(column, "server_default") is not None
                if nullable is False and not has_default:
                    col = _const(_arg(column, 0, "name"))
                    found.add(
                        "not_null",
                        line,
                        f"op.add_column {table}.{col}",
                        f"op.add_column({table!r}, {col!r}) NOT NULL without server_default",
                    )
        elif name == "alter_column" and _const(_kw(call, "nullable")) is False:
            altered = batch_table if in_batch else _const(_arg(call, 0, "table_name"))
            col = _const(_arg(call, 1 - shift, "column_name"))
            if (str(altered), str(col)) not in checked and altered not in created:
                found.add(
                    "not_null",
                    line,
                    f"op.alter_column {altered}.{col}",
                    f"op.alter_column({altered!r}, {col!r}, nullable=False) is SET NOT NULL",
                )
        elif name in {"drop_table", "drop_column"}:
            what = ", ".join(repr(_const(a)) for a in call.args[:2])
            found.add("destructive", line, f"op.{name}({what})", f"op.{name}({what}) in upgrade()")
        elif name == "execute":
            sql = str(_const(_arg(call, 0, "sqltext")) or "").upper()
            if "DROP TABLE" in sql or "TRUNCATE" in sql or "DROP COLUMN" in sql:
                found.add(
                    "destructive",
                    line,
                    "op.execute(DROP/TRUNCATE)",
                    "op.execute() drops or truncates data",
                )
            if "CREATE INDEX" in sql and "CONCURRENTLY" not in sql:
                found.add(
                    "index",
                    line,
                    "op.execute(CREATE INDEX)",
                    "op.execute('CREATE INDEX ...') without CONCURRENTLY",
                )
        if (
            name
            in {
                "add_column",
                "alter_column",
                "drop_column",
                "create_index",
                "create_foreign_key",
                "drop_constraint",
                "create_unique_constraint",
            }
            and found.locking_line is None
        ):
            locked = _const(_arg(call, 0 if name != "create_index" else 1, "table_name"))
            if locked not in created:
                found.locking_line = line
    downgrade = functions.get("downgrade")
    if downgrade is None:
        found.add("irreversible", upgrade.lineno, "no downgrade", "the revision has no downgrade()")
    elif _empty_body(downgrade.body):
        found.add("irreversible", downgrade.lineno, "empty downgrade", "downgrade() does nothing")
    return found


_DJANGO_LOCKING = {
    "AddField",
    "AlterField",
    "RemoveField",
    "AddIndex",
    "AddConstraint",
    "RenameField",
}


def runs_on_empty_database(tree: ast.Module) -> bool:
    """A squashed migration (`replaces = [...]`) or an `initial = True` one: on a database where
    the replaced migrations ran it is only recorded as applied, so it runs on empty tables only."""
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Migration"):
            continue
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign):
                continue
            names = {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            value = stmt.value
            if "initial" in names and _const(value) is True:
                return True
            if "replaces" in names and isinstance(value, ast.List | ast.Tuple) and value.elts:
                return True
    return False


def _added_field(call: ast.Call, model: str) -> tuple[str, str] | None:
    """(text, detail) of the hit for an AddField whose column gets no value on existing rows."""
    field_call = _arg(call, 2, "field")
    if not isinstance(field_call, ast.Call):
        return None
    field_type = _callee(field_call)[1]
    if not needs_value_for_existing_rows(field_call, field_type):
        return None
    fname = _const(_arg(call, 1, "name"))
    blank = ", blank=True" if _const(_kw(field_call, "blank")) is True else ""
    # the class (and blank) in the detail let the repository-level resolution settle a
    # project's own field class (see django_fields.resolve_field_kind)
    return (
        f"AddField {model}.{fname}",
        f"AddField {model}.{fname} ({field_type}{blank}) is NOT NULL without a default",
    )


def _django(tree: ast.Module) -> MigrationFindings:
    found = MigrationFindings(kind="django")
    if runs_on_empty_database(tree):
        return found  # no rows to fill, no live table to lock
    calls = _calls(tree)
    created = {
        str(_const(_arg(c, 0, "name"))).lower() for c in calls if _callee(c)[1] == "CreateModel"
    }
    for call in sorted(calls, key=lambda c: c.lineno):
        base, name = _callee(call)
        if base not in {"migrations", ""}:
            continue
        model = str(_const(_arg(call, 0, "model_name")) or "").lower()
        line = call.lineno
        if name == "AddField" and model not in created:
            added = _added_field(call, model)
            if added is not None:
                found.add("not_null", line, *added)
        elif name in {"RemoveField", "DeleteModel"}:
            target = (
                _const(_arg(call, 1, "name"))
                if name == "RemoveField"
                else _const(_arg(call, 0, "name"))
            )
            found.add(
                "destructive",
                line,
                f"{name} {model} {target}",
                f"{name} {model or ''} {target}".replace("  ", " "),
            )
        elif name == "AddIndex" and model not in created:
            found.add(
                "index",
                line,
                f"AddIndex {model}",
                f"AddIndex on {model} locks writes; use AddIndexConcurrently (atomic = False)",
            )
        if name in _DJANGO_LOCKING and model not in created and found.locking_line is None:
            found.locking_line = line
    return found
