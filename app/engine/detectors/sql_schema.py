"""Schema checks on SQL files parsed with pglast (and on JPA entities, through jpa_entities):
foreign keys without an index, tables without timestamps. Foreign keys and indexes often live in
different migrations, so the file detectors only emit facts (`fk-column`, `indexed-column`, and
`jpa-fk-column`, `jpa-indexed-column` for entities) and a repository detector compares them across
files."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from pglast import ast, enums

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.jpa_entities import entities_without_timestamps, normalized
from app.engine.detectors.migration_files import is_down_migration, sequence_position, up_part
from app.engine.detectors.sql_dialect import SqlSource, read_sql
from app.engine.model import Fact, Hit, ParseProblem

_TIMESTAMP_COLUMNS = {
    "created_at",
    "createdat",
    "inserted_at",
    "created",
    "created_on",
    "date_created",
    "creation_date",
    "created_time",
    "timestamp",
}


_DROP_COLUMN = enums.AlterTableType.AT_DropColumn


def _schema_source(ctx: FileContext) -> SqlSource | None:
    """The file as the schema rules read it: the up part of a migration; None for a down
    migration (it re-creates what an up migration made, judged there)."""
    if is_down_migration(ctx.path):
        return None
    return read_sql(ctx.path, up_part(ctx.text))


# MySQL (InnoDB) and H2 index the referencing columns of a foreign key themselves
_INDEXES_FOREIGN_KEYS = {"MySQL", "H2", "HSQLDB"}


def statement_line(ctx: FileContext, raw: ast.RawStmt) -> int:
    """1-based line of a statement's first token (pglast gives the offset of the previous `;`)."""
    data, newlines = _byte_lines(ctx)
    offset = raw.stmt_location or 0
    while offset < len(data) and data[offset : offset + 1].isspace():
        offset += 1
    return bisect_left(newlines, offset) + 1


def _byte_lines(ctx: FileContext) -> tuple[bytes, list[int]]:
    """The text as pglast read it (UTF-8) and the offsets of its newlines: built once per file
    (a file of 50,000 statements encoded and counted its text once per statement)."""
    known: tuple[bytes, list[int]] | None = ctx.memo.get(_byte_lines)
    if known is None:
        data = ctx.text.encode()
        known = ctx.memo[_byte_lines] = (data, [m.start() for m in re.finditer(b"\n", data)])
    return known


def _names(nodes: Any) -> list[str]:
    return [n.sval for n in nodes or () if isinstance(n, ast.String) and n.sval]


@file_detector("foreign_key_facts")
def foreign_key_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact | ParseProblem]:
    """`fk-column` / `indexed-column` (table.column), and `dropped-table` (table) /
    `dropped-column` (table.column) for what a migration removes later; a down migration
    restores what an up migration had, so it states nothing."""
    source = _schema_source(ctx)
    if source is None:
        return
    if source.problem is not None:
        yield source.problem
    if source.statements is None or source.dialect in _INDEXES_FOREIGN_KEYS:
        return
    for raw in source.statements:
        stmt = raw.stmt
        line = statement_line(ctx, raw)
        if isinstance(stmt, ast.CreateStmt) and stmt.relation is not None:
            table = stmt.relation.relname or ""
            for element in stmt.tableElts or ():
                if isinstance(element, ast.ColumnDef):
                    for c in element.constraints or ():
                        if c.contype == enums.ConstrType.CONSTR_FOREIGN:
                            yield Fact("fk-column", f"{table}.{element.colname}", line)
                        elif c.contype in (
                            enums.ConstrType.CONSTR_PRIMARY,
                            enums.ConstrType.CONSTR_UNIQUE,
                        ):
                            yield Fact("indexed-column", f"{table}.{element.colname}", line)
                elif isinstance(element, ast.Constraint):
                    yield from _constraint_facts(table, element, line)
        elif isinstance(stmt, ast.AlterTableStmt) and stmt.relation is not None:
            table = stmt.relation.relname or ""
            for cmd in stmt.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd) and isinstance(cmd.def_, ast.Constraint):
                    yield from _constraint_facts(table, cmd.def_, line)
                elif isinstance(cmd, ast.AlterTableCmd) and cmd.subtype == _DROP_COLUMN:
                    yield Fact("dropped-column", f"{table}.{cmd.name}", line)
        elif isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
            for name in stmt.objects or ():
                parts = _names(name)
                if parts:
                    yield Fact("dropped-table", parts[-1], line)
        elif isinstance(stmt, ast.IndexStmt) and stmt.relation is not None and stmt.indexParams:
            first = stmt.indexParams[0]
            if isinstance(first, ast.IndexElem) and first.name:
                yield Fact("indexed-column", f"{stmt.relation.relname}.{first.name}", line)


def _constraint_facts(table: str, c: ast.Constraint, line: int) -> Iterable[Fact]:
    if c.contype == enums.ConstrType.CONSTR_FOREIGN:
        columns = _names(c.fk_attrs)
        if columns:
            yield Fact("fk-column", f"{table}.{columns[0]}", line)
    elif c.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
        columns = _names(c.keys)
        if columns:
            yield Fact("indexed-column", f"{table}.{columns[0]}", line)


def _current_foreign_keys(view: RepoView) -> list[tuple[str, Fact]]:
    """The `fk-column` facts still true of the current schema: for a column keyed in several
    migrations of one sequence, the last one; none whose table or column a later migration (or
    a later statement of the same file) drops."""
    latest: dict[tuple[str, str], tuple[Any, str, Fact]] = {}
    for path, fact in view.where("fk-column"):
        root, position = sequence_position(path)
        key = (position, fact.line or 0)
        held = latest.get((root, fact.value))
        if held is None or key > held[0]:
            latest[(root, fact.value)] = (key, path, fact)
    drops: dict[tuple[str, str], list[tuple[Any, str]]] = {}
    for kind in ("dropped-table", "dropped-column"):
        for path, fact in view.where(kind):
            root, position = sequence_position(path)
            drops.setdefault((root, fact.value), []).append(((position, fact.line or 0), path))
    current = []
    for (root, value), (key, path, fact) in latest.items():
        table = value.partition(".")[0]
        later = drops.get((root, table), []) + drops.get((root, value), [])
        if not any(drop_key > key for drop_key, _ in later):
            current.append((path, fact))
    return sorted(current, key=lambda found: (found[0], found[1].line or 0))


@repo_detector("foreign_key_without_index")
def foreign_keys_without_index(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    indexed = {fact.value for _, fact in view.where("indexed-column")}
    for path, fact in _current_foreign_keys(view):
        if fact.value not in indexed:
            yield RepoHit(
                path=path, line=fact.line, text=fact.value, detail=f"{fact.value} has no index"
            )
    # An entity's key column is indexed by its @Table or by a migration; a key the migrations
    # declare is reported there, once.
    covered = {_qualified(fact.value) for _, fact in view.where("fk-column")}
    covered |= {_qualified(fact.value) for _, fact in view.where("indexed-column")}
    covered |= {_qualified(fact.value) for _, fact in view.where("jpa-indexed-column")}
    for path, fact in view.where("jpa-fk-column"):
        if _qualified(fact.value) not in covered:
            yield RepoHit(
                path=path,
                line=fact.line,
                text=fact.value,
                detail=f"join column {fact.value} has no index",
            )


def _qualified(value: str) -> str:
    table, _, column = value.partition(".")
    return f"{normalized(table)}.{normalized(column)}"


@file_detector("table_without_timestamps")
def table_without_timestamps(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | ParseProblem]:
    if ctx.language == "java":
        yield from entities_without_timestamps(ctx)
        return
    source = _schema_source(ctx)
    if source is None:
        return
    if source.problem is not None:
        yield source.problem
    for raw in source.statements or ():
        stmt = raw.stmt
        if not isinstance(stmt, ast.CreateStmt) or stmt.relation is None:
            continue
        columns = [e.colname or "" for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
        if not columns or all(c == "id" or c.endswith("_id") for c in columns):
            continue  # a join table
        if not any(c.lower() in _TIMESTAMP_COLUMNS for c in columns):
            table = stmt.relation.relname
            yield Hit("", statement_line(ctx, raw), f"CREATE TABLE {table}", f"table {table}")
