"""PostgreSQL migration files parsed with pglast: locking and destructive statements.

Noise avoided on purpose: a table created in the same file needs no CONCURRENTLY and may get NOT
NULL columns freely; down migrations exist to drop things; Prisma never emits `lock_timeout`, so
that is one repository-level finding (see `prisma_lock_timeout`), not one per migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pglast import ast, enums

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.migration_python import SQL_CHECK_NOT_NULL, analyse
from app.engine.detectors.sql_schema import statement_line
from app.engine.detectors.sql_schema import statements as sql_statements
from app.engine.model import Fact, Hit, ParseProblem

_DOWN = re.compile(r"(^|[/._-])(down|rollback|revert|undo)([/._-]|$)", re.IGNORECASE)
_AT = enums.AlterTableType


_FLYWAY_UNDO = re.compile(r"^U\d+(?:[._]\d+)*__")
# single-file migration tools put the down part after a marker: dbmate, goose, sql-migrate
_DOWN_SECTION = re.compile(r"^--\s*(?:migrate:down|\+goose\s+down|\+migrate\s+down)\b", re.I | re.M)


def is_down_migration(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return bool(_DOWN.search(name)) or "/down/" in path or bool(_FLYWAY_UNDO.match(name))


def up_part(text: str) -> str:
    """The text before a down-section marker (the whole text when there is none)."""
    marker = _DOWN_SECTION.search(text)
    return text[: marker.start()] if marker else text


def is_prisma(path: str) -> bool:
    return "prisma/migrations/" in path or (
        path.startswith("migrations/") and path.endswith("/migration.sql")
    )


def _statements(ctx: FileContext) -> list[ast.RawStmt] | ParseProblem:
    parsed = sql_statements(up_part(ctx.text))
    return parsed if isinstance(parsed, ParseProblem) else list(parsed)


def _created_tables(statements: list[ast.RawStmt]) -> set[str]:
    return {
        s.stmt.relation.relname or ""
        for s in statements
        if isinstance(s.stmt, ast.CreateStmt) and s.stmt.relation is not None
    }


def _up_statements(ctx: FileContext) -> list[ast.RawStmt] | ParseProblem | None:
    """The statements of an up migration; None for a down migration, which may drop anything."""
    return None if is_down_migration(ctx.path) else _statements(ctx)


SqlCheck = Callable[[FileContext, list[ast.RawStmt], set[str]], Iterable[Hit]]


def _migration_check(name: str, python_check: str) -> Callable[[SqlCheck], SqlCheck]:
    """Register a detector that judges alembic/Django files through `analyse` (its `python_check`
    hits) and SQL up migrations through the decorated function, which gets the parsed statements
    and the tables the file creates; down migrations and parse problems are handled here once."""

    def register(sql_check: SqlCheck) -> SqlCheck:
        @file_detector(name)
        def detector(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit | ParseProblem]:
            if ctx.language == "python":
                yield from _python(ctx, python_check)
                return
            statements = _up_statements(ctx)
            if isinstance(statements, ParseProblem):
                yield statements
            elif statements is not None:
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
    statements = _up_statements(ctx)
    if statements is None or isinstance(statements, ParseProblem):
        if statements is not None:
            yield statements
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
        found = view.where(kind)
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


@_migration_check("migration_destructive", "destructive")
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
