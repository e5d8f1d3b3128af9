"""PostgreSQL migration files parsed with pglast: locking and destructive statements.

Noise avoided on purpose: a table created in the same file (CREATE TABLE, CREATE TABLE ... AS,
SELECT ... INTO, a materialized view, and the name it is renamed to) needs no CONCURRENTLY, may
get NOT NULL columns freely, and dropping it (to rebuild it from a query) loses nothing; down
migrations exist to drop things; another SQL dialect gets only the checks that hold in every
dialect (see `sql_dialect`); Prisma never emits `lock_timeout`, so that is one repository-level
finding (see `prisma_lock_timeout`), not one per migration.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from typing import Any

from pglast import ast, enums

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, hit_resolver, repo_detector
from app.engine.detectors.django_fields import (
    FieldKind,
    field_bases,
    known_field_kind,
    resolve_field_kind,
)
from app.engine.detectors.migration_files import is_down_migration, migration_order, up_part
from app.engine.detectors.migration_liquibase import liquibase_hits
from app.engine.detectors.migration_python import SQL_CHECK_NOT_NULL, analyse
from app.engine.detectors.sql_dialect import SqlSource, read_sql
from app.engine.detectors.sql_schema import statement_line
from app.engine.model import Fact, Hit, ParseProblem

_AT = enums.AlterTableType


def is_prisma(path: str) -> bool:
    return "prisma/migrations/" in path or (
        path.startswith("migrations/") and path.endswith("/migration.sql")
    )


def _created_table(stmt: Any) -> str | None:
    """The table (or materialized view) a statement creates: CREATE TABLE, CREATE TABLE ... AS,
    CREATE MATERIALIZED VIEW, SELECT ... INTO."""
    if isinstance(stmt, ast.CreateStmt) and stmt.relation is not None:
        return stmt.relation.relname or ""
    into = None
    if isinstance(stmt, ast.CreateTableAsStmt):
        into = stmt.into
    elif isinstance(stmt, ast.SelectStmt):
        into = stmt.intoClause
    if into is not None and into.rel is not None:
        return into.rel.relname or ""
    return None


def _created_tables(statements: list[ast.RawStmt]) -> set[str]:
    """The tables the file creates, under their names after any rename in the same file; no
    session sees them before the migration commits, so locking them blocks nobody."""
    created: set[str] = set()
    for raw in statements:
        stmt = raw.stmt
        table = _created_table(stmt)
        if table is not None:
            created.add(table)
        elif (
            isinstance(stmt, ast.RenameStmt)
            and stmt.renameType == enums.ObjectType.OBJECT_TABLE
            and stmt.relation is not None
            and stmt.relation.relname in created
        ):
            created.add(stmt.newname or "")
    return created


def _up_source(ctx: FileContext) -> SqlSource | None:
    """An up migration as read (its dialect, statements, problem); None for a down migration,
    which may drop anything."""
    return None if is_down_migration(ctx.path) else read_sql(ctx.path, up_part(ctx.text))


def _up_statements(
    ctx: FileContext, *, postgresql_only: bool
) -> tuple[list[ast.RawStmt] | None, ParseProblem | None]:
    """(the statements a check judges, the problem to report): no statements for a down
    migration, a file pglast could not read, or, for a PostgreSQL rule, another dialect."""
    source = _up_source(ctx)
    if source is None:
        return None, None
    if source.statements is None or (postgresql_only and not source.is_postgresql):
        return None, source.problem
    return list(source.statements), source.problem


SqlCheck = Callable[[FileContext, list[ast.RawStmt], set[str]], Iterable[Hit]]


def _migration_check(
    name: str, python_check: str, *, postgresql_only: bool = True
) -> Callable[[SqlCheck], SqlCheck]:
    """Register a detector that judges alembic/Django files through `analyse` (its `python_check`
    hits), Liquibase changelogs through `liquibase_hits` (the same check names) and SQL up
    migrations through the decorated function, which gets the parsed statements and the tables
    the file creates; down migrations, other dialects (unless the check holds in every dialect)
    and parse problems are handled here once."""

    def register(sql_check: SqlCheck) -> SqlCheck:
        @file_detector(name)
        def detector(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit | ParseProblem]:
            if ctx.language == "python":
                yield from _python(ctx, python_check)
                return
            if ctx.language in ("xml", "yaml"):
                yield from liquibase_hits(ctx, python_check)
                return
            statements, problem = _up_statements(ctx, postgresql_only=postgresql_only)
            if problem is not None:
                yield problem
            if statements is not None:
                yield from sql_check(ctx, statements, _created_tables(statements))

        return sql_check

    return register


@_migration_check("migration_index_not_concurrent", "index")
def _index_not_concurrent(
    ctx: FileContext, statements: list[ast.RawStmt], created: set[str]
) -> Iterable[Hit]:
    for raw in statements:
        stmt = raw.stmt
        if isinstance(stmt, ast.IndexStmt) and not stmt.concurrent and stmt.relation is not None:
            table = stmt.relation.relname or ""
            if table not in created:
                name = stmt.idxname or "(unnamed)"
                yield Hit(
                    "",
                    statement_line(ctx, raw),
                    f"CREATE INDEX {name}",
                    f"CREATE INDEX {name} ON {table} without CONCURRENTLY",
                )


def _locking(statements: list[ast.RawStmt], created: set[str]) -> ast.RawStmt | None:
    """The first statement that takes a strong lock on a table this file did not create."""
    for raw in statements:
        stmt = raw.stmt
        relation = getattr(stmt, "relation", None)
        table = getattr(relation, "relname", None)
        if isinstance(stmt, ast.AlterTableStmt) and table not in created:
            return raw
        if isinstance(stmt, ast.IndexStmt) and not stmt.concurrent and table not in created:
            return raw
        if isinstance(stmt, ast.RenameStmt) and table in created:
            continue
        if isinstance(stmt, ast.DropStmt | ast.TruncateStmt | ast.RenameStmt):
            return raw
    return None


def _sets_lock_timeout(statements: list[ast.RawStmt]) -> bool:
    return any(
        isinstance(s.stmt, ast.VariableSetStmt) and s.stmt.name == "lock_timeout"
        for s in statements
    )


@file_detector("migration_no_lock_timeout")
def migration_no_lock_timeout(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    if ctx.language == "python":
        found = analyse(ctx.text, ctx.path)
        if found.problem is not None:
            yield found.problem
        elif found.locking_line is not None and "lock_timeout" not in ctx.text:
            yield Fact("orm-locking-migration", found.kind, found.locking_line)
        return
    statements, problem = _up_statements(ctx, postgresql_only=True)
    if problem is not None:
        yield problem
    if statements is None:
        return
    first = _locking(statements, _created_tables(statements))
    if first is None or _sets_lock_timeout(statements):
        return
    if is_prisma(ctx.path):
        yield Fact("prisma-locking-migration", "", statement_line(ctx, first))
        return
    yield Hit(
        "",
        statement_line(ctx, first),
        "no lock_timeout",
        "the migration takes table locks without `SET lock_timeout`",
    )


@repo_detector("generated_migrations_lock_timeout")
def generated_migrations_lock_timeout(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """Migration tools that never emit lock_timeout get one finding per repository, not one per
    file; a `lock_timeout` set anywhere (alembic's env.py, a connection option) satisfies it."""
    if view.has("lock-timeout"):
        return
    for kind, label in (("prisma-locking-migration", "Prisma"), ("orm-locking-migration", "")):
        found = [(p, f) for p, f in view.where(kind) if not view.release.applied(p)]
        if found:
            path, fact = found[0]
            tool = label or fact.value.capitalize() or "The migration tool"
            yield RepoHit(
                path=path,
                line=fact.line,
                text=f"{kind} lock_timeout",
                detail=(
                    f"{tool} migrations take table locks ({len(found)} file(s))"
                    " and nothing sets lock_timeout"
                ),
            )


def _column_constraints(column: ast.ColumnDef) -> set[Any]:
    return {c.contype for c in column.constraints or () if isinstance(c, ast.Constraint)}


@_migration_check("migration_not_null_without_default", "not_null")
def _not_null_without_default(
    ctx: FileContext, statements: list[ast.RawStmt], created: set[str]
) -> Iterable[Hit]:
    # the check-constraint pattern, for this table and column, makes SET NOT NULL cheap
    checked = {(t.lower(), c.lower()) for t, c in SQL_CHECK_NOT_NULL.findall(up_part(ctx.text))}
    for raw in statements:
        stmt = raw.stmt
        if not isinstance(stmt, ast.AlterTableStmt) or stmt.relation is None:
            continue
        table = stmt.relation.relname or ""
        if table in created:
            continue
        for cmd in stmt.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            if cmd.subtype == _AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                kinds = _column_constraints(cmd.def_)
                if (
                    enums.ConstrType.CONSTR_NOTNULL in kinds
                    and enums.ConstrType.CONSTR_DEFAULT not in kinds
                ):
                    col = cmd.def_.colname
                    yield Hit(
                        "",
                        statement_line(ctx, raw),
                        f"ADD COLUMN {table}.{col}",
                        f"ALTER TABLE {table} ADD COLUMN {col} NOT NULL without a DEFAULT",
                    )
            elif (
                cmd.subtype == _AT.AT_SetNotNull
                and (table.lower(), (cmd.name or "").lower()) not in checked
            ):
                yield Hit(
                    "",
                    statement_line(ctx, raw),
                    f"SET NOT NULL {table}.{cmd.name}",
                    f"ALTER TABLE {table} ALTER COLUMN {cmd.name} SET NOT NULL"
                    " scans the table under an exclusive lock",
                )


@_migration_check("migration_destructive", "destructive", postgresql_only=False)
def _destructive(
    ctx: FileContext, statements: list[ast.RawStmt], created: set[str]
) -> Iterable[Hit]:
    for raw in statements:
        stmt = raw.stmt
        line = statement_line(ctx, raw)
        if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_SCHEMA:
            names = [n.sval or "" for n in stmt.objects or () if isinstance(n, ast.String)]
            yield Hit("", line, f"DROP SCHEMA {','.join(names)}", f"DROP SCHEMA {', '.join(names)}")
        elif isinstance(stmt, ast.DropdbStmt):
            yield Hit("", line, f"DROP DATABASE {stmt.dbname}", f"DROP DATABASE {stmt.dbname}")
        elif isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
            names = [
                ".".join(n.sval or "" for n in obj if isinstance(n, ast.String))
                for obj in stmt.objects or ()
            ]
            names = [n for n in names if n not in created]
            if names:
                yield Hit(
                    "", line, f"DROP TABLE {','.join(names)}", f"DROP TABLE {', '.join(names)}"
                )
        elif isinstance(stmt, ast.TruncateStmt):
            yield Hit("", line, "TRUNCATE", "TRUNCATE")
        elif isinstance(stmt, ast.AlterTableStmt) and stmt.relation is not None:
            for cmd in stmt.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd) and cmd.subtype == _AT.AT_DropColumn:
                    table = stmt.relation.relname
                    yield Hit(
                        "",
                        line,
                        f"DROP COLUMN {table}.{cmd.name}",
                        f"ALTER TABLE {table} DROP COLUMN {cmd.name}",
                    )


def _python(ctx: FileContext, check: str) -> Iterable[Hit | ParseProblem]:
    found = analyse(ctx.text, ctx.path)
    if found.problem is not None:
        yield found.problem
        return
    yield from found.hits.get(check, [])


@file_detector("migration_irreversible")
def migration_irreversible(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | ParseProblem]:
    if ctx.language == "python":
        yield from _python(ctx, "irreversible")


# The check-constraint pattern across migrations: `ADD CONSTRAINT k CHECK (c IS NOT NULL) NOT
# VALID` in one migration, `VALIDATE CONSTRAINT k` in a later one, `SET NOT NULL` in a third. Each
# SQL up migration states what it adds and validates as facts; the SET NOT NULL hit is withdrawn
# at audit time when an earlier (or the same) migration of the same folder covers the column.


_CHECK_OR_VALIDATE = re.compile(r"\b(check|validate)\b", re.IGNORECASE)


def _not_null_columns(expr: Any) -> list[str]:
    """The columns a CHECK expression requires to be non-null (`c IS NOT NULL [AND ...]`)."""
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == enums.NullTestType.IS_NOT_NULL:
        fields = getattr(expr.arg, "fields", None) or ()
        names = [f.sval for f in fields if isinstance(f, ast.String) and f.sval]
        return [names[-1].lower()] if names else []
    if isinstance(expr, ast.BoolExpr) and expr.boolop == enums.BoolExprType.AND_EXPR:
        return [c for arg in expr.args or () for c in _not_null_columns(arg)]
    return []


@file_detector("check_not_null_facts")
def check_not_null_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """`check-not-null` (table|column) for a validated CHECK (c IS NOT NULL), and
    `check-not-null-pending` (table|constraint|column) / `constraint-validated`
    (table|constraint) for the NOT VALID form and its later validation."""
    if "migration" not in ctx.roles or not _CHECK_OR_VALIDATE.search(ctx.text):
        return
    statements, _ = _up_statements(ctx, postgresql_only=True)
    if statements is None:
        return
    pending: list[tuple[str, str, str, int]] = []
    validated: set[tuple[str, str]] = set()
    for raw in statements:
        stmt = raw.stmt
        if not isinstance(stmt, ast.AlterTableStmt) or stmt.relation is None:
            continue
        table = (stmt.relation.relname or "").lower()
        for cmd in stmt.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            constraint = cmd.def_
            if (
                cmd.subtype == _AT.AT_AddConstraint
                and isinstance(constraint, ast.Constraint)
                and constraint.contype == enums.ConstrType.CONSTR_CHECK
            ):
                name = (constraint.conname or "").lower()
                for column in _not_null_columns(constraint.raw_expr):
                    line = statement_line(ctx, raw)
                    if constraint.skip_validation:
                        pending.append((table, name, column, line))
                    else:
                        yield Fact("check-not-null", f"{table}|{column}", line)
            elif cmd.subtype == _AT.AT_ValidateConstraint:
                name = (cmd.name or "").lower()
                validated.add((table, name))
                yield Fact("constraint-validated", f"{table}|{name}", statement_line(ctx, raw))
    for table, name, column, line in pending:
        if (table, name) in validated:
            yield Fact("check-not-null", f"{table}|{column}", line)
        else:
            yield Fact("check-not-null-pending", f"{table}|{name}|{column}", line)


_SET_NOT_NULL = re.compile(r"^SET NOT NULL (?P<table>[^.\s]+)\.(?P<column>\S+)$")


@hit_resolver("migration_not_null_without_default")
def _not_null_resolved_elsewhere(path: str, hit: Hit, view: RepoView) -> bool:
    """A SET NOT NULL made cheap by an earlier check constraint, or a Django field whose class,
    defined in the project, turns out to be a many-to-many or a blank string field."""
    return _project_field_gets_a_value(hit, view) or _checked_in_an_earlier_migration(
        path, hit, view
    )


_ADD_FIELD = re.compile(r"^AddField \S+ \((?P<cls>\w+)(?P<blank>, blank=True)?\)")


def _project_field_gets_a_value(hit: Hit, view: RepoView) -> bool:
    m = _ADD_FIELD.match(hit.detail)
    if m is None or known_field_kind(m.group("cls")) is not FieldKind.UNKNOWN:
        return False
    bases = field_bases(fact for _, fact in view.where("django-field-class"))
    kind = resolve_field_kind(m.group("cls"), bases)
    return kind is FieldKind.MANY_TO_MANY or (
        kind is FieldKind.STRING and m.group("blank") is not None
    )


def _checked_in_an_earlier_migration(path: str, hit: Hit, view: RepoView) -> bool:
    m = _SET_NOT_NULL.match(hit.text)
    if m is None or not path.endswith(".sql"):
        return False
    table, column = m.group("table").lower(), m.group("column").lower()
    folder, order = posixpath.dirname(path), migration_order(path)

    def earlier(other: str) -> bool:
        return posixpath.dirname(other) == folder and migration_order(other) <= order

    if any(earlier(p) and f.value == f"{table}|{column}" for p, f in view.where("check-not-null")):
        return True
    validated = {f.value for p, f in view.where("constraint-validated") if earlier(p)}
    for p, f in view.where("check-not-null-pending"):
        pending_table, name, pending_column = f.value.split("|")
        if (
            earlier(p)
            and (pending_table, pending_column) == (table, column)
            and f"{table}|{name}" in validated
        ):
            return True
    return False
