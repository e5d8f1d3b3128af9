"""Schema checks on SQL files parsed with pglast (and on JPA entities, through jpa_entities):
foreign keys without an index, tables without timestamps. Foreign keys and indexes often live in
different migrations, so the file detectors only emit facts (`fk-column`, `indexed-column`, and
`jpa-fk-column`, `jpa-indexed-column` for entities) and a repository detector compares them across
files."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast, enums

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.jpa_entities import entities_without_timestamps, normalized
from app.engine.detectors.sql_dialect import read_sql
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


# MySQL (InnoDB) and H2 index the referencing columns of a foreign key themselves
_INDEXES_FOREIGN_KEYS = {"MySQL", "H2", "HSQLDB"}


def statement_line(ctx: FileContext, raw: ast.RawStmt) -> int:
    """1-based line of a statement's first token (pglast gives the offset of the previous `;`)."""
    data = ctx.text.encode()
    offset = raw.stmt_location or 0
    while offset < len(data) and data[offset : offset + 1].isspace():
        offset += 1
    return data.count(b"\n", 0, offset) + 1


def _names(nodes: Any) -> list[str]:
    return [n.sval for n in nodes or () if isinstance(n, ast.String) and n.sval]


@file_detector("foreign_key_facts")
def foreign_key_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact | ParseProblem]:
    source = read_sql(ctx.path, ctx.text)
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
            for cmd in stmt.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd) and isinstance(cmd.def_, ast.Constraint):
                    yield from _constraint_facts(stmt.relation.relname or "", cmd.def_, line)
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


@repo_detector("foreign_key_without_index")
def foreign_keys_without_index(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    indexed = {fact.value for _, fact in view.where("indexed-column")}
    for path, fact in view.where("fk-column"):
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
    source = read_sql(ctx.path, ctx.text)
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
