"""Cascade deletes on user data (DB008): the rule's regex finds `REFERENCES users ... ON DELETE
CASCADE` (and the ORM forms), and in SQL the statement around a match decides whether it matters.

Not findings: a cascade in a down migration (it restores what an up migration had, judged
there), and one on a pure join table: a table made only of foreign keys to the tables it links,
a surrogate `id` and timestamps (`community_moderator (id, community_id, person_id, published)`,
Prisma's `_UserFavorites ("A", "B")`). Deleting a user deletes its links, not its data, and that
is what the cascade is for.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pglast import ast, enums

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.detectors.migration_files import is_down_migration, up_part
from app.engine.detectors.sql_dialect import read_sql
from app.engine.detectors.sql_schema import statement_line
from app.engine.model import Hit

_TIMESTAMP_TYPES = {"timestamp", "timestamptz", "date", "datetime"}
_TIMESTAMP_NAMES = re.compile(
    r"^(created|updated|modified|inserted|published|deleted)(_?(at|on|date|time))?$"
    r"|^(date_)?(created|updated|modified)$|_at$",
    re.IGNORECASE,
)


@lru_cache(maxsize=4)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _type_name(column: ast.ColumnDef) -> str:
    names = column.typeName.names if column.typeName is not None else ()
    return next((n.sval for n in reversed(names or ()) if isinstance(n, ast.String)), "") or ""


def _foreign_key_columns(constraint: ast.Constraint) -> set[str]:
    return {n.sval for n in constraint.fk_attrs or () if isinstance(n, ast.String) and n.sval}


def _join_tables(statements: Iterable[ast.RawStmt]) -> set[str]:
    """The tables this file creates whose every column is a foreign key (two at least), `id`,
    or a timestamp; keys added by a later ALTER TABLE of the same file count."""
    columns: dict[str, list[ast.ColumnDef]] = {}
    keys: dict[str, set[str]] = {}
    for raw in statements:
        stmt = raw.stmt
        if isinstance(stmt, ast.CreateStmt) and stmt.relation is not None:
            table = stmt.relation.relname or ""
            defs = [e for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
            columns[table] = defs
            found = keys.setdefault(table, set())
            for element in stmt.tableElts or ():
                if isinstance(element, ast.ColumnDef) and any(
                    isinstance(c, ast.Constraint) and c.contype == enums.ConstrType.CONSTR_FOREIGN
                    for c in element.constraints or ()
                ):
                    found.add(element.colname or "")
                elif (
                    isinstance(element, ast.Constraint)
                    and element.contype == enums.ConstrType.CONSTR_FOREIGN
                ):
                    found |= _foreign_key_columns(element)
        elif isinstance(stmt, ast.AlterTableStmt) and stmt.relation is not None:
            for cmd in stmt.cmds or ():
                constraint = getattr(cmd, "def_", None)
                if (
                    isinstance(constraint, ast.Constraint)
                    and constraint.contype == enums.ConstrType.CONSTR_FOREIGN
                ):
                    table = stmt.relation.relname or ""
                    keys.setdefault(table, set()).update(_foreign_key_columns(constraint))
    joins = set()
    for table, defs in columns.items():
        linked = keys.get(table, set())
        others = [
            d
            for d in defs
            if d.colname not in linked
            and (d.colname or "").lower() != "id"
            and not _TIMESTAMP_NAMES.search(d.colname or "")
            and _type_name(d).lower() not in _TIMESTAMP_TYPES
        ]
        if len(linked) >= 2 and not others:
            joins.add(table)
    return joins


def _quiet_spans(ctx: FileContext) -> list[tuple[int, bool]]:
    """(first line, is quiet) of each statement of a SQL file, quiet when it creates or alters
    a join table; empty when the file cannot be read as SQL."""
    source = read_sql(ctx.path, up_part(ctx.text))
    if source.statements is None:
        return []
    joins = _join_tables(source.statements)
    spans = []
    for raw in source.statements:
        relation = getattr(raw.stmt, "relation", None)
        table = getattr(relation, "relname", None)
        quiet = isinstance(raw.stmt, ast.CreateStmt | ast.AlterTableStmt) and table in joins
        spans.append((statement_line(ctx, raw), quiet))
    return spans


@file_detector("cascade_delete_user_data")
def cascade_delete_user_data(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """The matches of `options["pattern"]`, less those a SQL file shows to be harmless."""
    lowered = ctx.lower_text if ctx.lower_text is not None else ctx.text.lower()
    if "cascade" not in lowered:
        return
    is_sql = ctx.language == "sql"
    if is_sql and is_down_migration(ctx.path):
        return
    matches = list(_pattern(options["pattern"]).finditer(ctx.text))
    if not matches:
        return
    spans = _quiet_spans(ctx) if is_sql else []
    starts = [line for line, _ in spans]
    for m in matches:
        line = ctx.line_of(m.start())
        at = bisect_right(starts, line) - 1
        if at >= 0 and spans[at][1]:
            continue
        yield Hit("", line, ctx.text[m.start() : m.end()][:200])
