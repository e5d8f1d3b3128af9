"""Liquibase changelogs (XML and YAML), the migrations of many Spring Boot services.

The change types that lock or destroy are read from the changelog's structure: `createIndex`
(Liquibase has no CONCURRENTLY; that needs a `<sql>` change), `addNotNullConstraint` (SET NOT
NULL), `addColumn` with a `nullable: false` column and no default, `dropTable`, `dropColumn`.
Tables created in the same changelog are exempt, like in SQL files; `rollback` blocks are the down
migration and are skipped. XML is read with regular expressions, never an XML parser (a scanned
file must not be able to expand entities); YAML with the safe node composer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from app.engine.context import FileContext
from app.engine.detectors.yaml_nodes import (
    YamlDocumentError,
    documents,
    get,
    items,
    line,
    scalar,
    sequence,
)
from app.engine.line_counter import LineCounter
from app.engine.model import Hit, ParseProblem

_KINDS = (
    "createTable",
    "createIndex",
    "addNotNullConstraint",
    "addColumn",
    "dropTable",
    "dropColumn",
)
_DEFAULTS = (
    "defaultValue",
    "defaultValueNumeric",
    "defaultValueBoolean",
    "defaultValueDate",
    "defaultValueComputed",
    "defaultValueSequenceNext",
)


@dataclass
class Change:
    kind: str
    line: int
    table: str
    attrs: dict[str, str] = field(default_factory=dict)
    # (name, nullable=false, has a default) of an addColumn's columns
    columns: list[tuple[str, bool, bool]] = field(default_factory=list)


def is_changelog(ctx: FileContext) -> bool:
    return "databaseChangeLog" in ctx.text


_ROLLBACK_XML = re.compile(r"<rollback\b.*?</rollback>|<rollback\b[^>]*/>", re.S)
_ELEMENT_XML = re.compile(
    r"<(?P<kind>" + "|".join(_KINDS) + r")\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=kind)>)",
    re.S,
)
_COLUMN_XML = re.compile(r"<column\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</column>)", re.S)
_ATTR_XML = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTR_XML.finditer(text)
    }


def _xml_changes(text: str) -> list[Change]:
    # blank the rollback blocks out, keeping offsets (and so line numbers) as they are
    text = _ROLLBACK_XML.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    changes = []
    lines = LineCounter(text)
    for m in _ELEMENT_XML.finditer(text):
        attrs = _attrs(m.group("attrs"))
        change = Change(
            m.group("kind"), lines.line_of(m.start()), attrs.get("tableName", ""), attrs
        )
        for column in _COLUMN_XML.finditer(m.group("body") or ""):
            col = _attrs(column.group("attrs"))
            body = column.group("body") or ""
            not_null = bool(re.search(r"""nullable\s*=\s*["']false["']""", body))
            change.columns.append((col.get("name", ""), not_null, any(d in col for d in _DEFAULTS)))
        changes.append(change)
    return changes


def _yaml_changes(text: str) -> list[Change]:
    changes = []
    for doc in documents(text):
        for entry in sequence(get(doc, "databaseChangeLog")):
            change_set = get(entry, "changeSet")
            for item in sequence(get(change_set, "changes")):
                for kind, key, body in items(item):
                    if kind not in _KINDS:
                        continue
                    attrs = {name: scalar(value) or "" for name, _, value in items(body)}
                    change = Change(kind, line(key), attrs.get("tableName", ""), attrs)
                    for column in sequence(get(body, "columns")):
                        col = get(column, "column")
                        names = {name for name, _, _ in items(col)}
                        nullable = scalar(get(get(col, "constraints"), "nullable"))
                        change.columns.append(
                            (
                                scalar(get(col, "name")) or "",
                                (nullable or "").lower() == "false",
                                any(d in names for d in _DEFAULTS),
                            )
                        )
                    changes.append(change)
    return changes


@lru_cache(maxsize=8)
def _changes(text: str, language: str) -> list[Change] | ParseProblem:
    if language == "xml":
        return _xml_changes(text)
    try:
        return _yaml_changes(text)
    except YamlDocumentError as exc:
        return ParseProblem("yaml", str(exc))


def liquibase_hits(ctx: FileContext, check: str) -> list[Hit | ParseProblem]:
    """The hits of one check (`index`, `not_null`, `destructive`) in a Liquibase changelog."""
    if not is_changelog(ctx):
        return []
    changes = _changes(ctx.text, ctx.language or "")
    if isinstance(changes, ParseProblem):
        return [changes]
    created = {c.table for c in changes if c.kind == "createTable"}
    hits: list[Hit | ParseProblem] = []
    for c in changes:
        if c.table in created and c.kind != "createTable":
            continue
        if check == "index" and c.kind == "createIndex":
            name = c.attrs.get("indexName", "(unnamed)")
            hits.append(
                Hit(
                    "",
                    c.line,
                    f"createIndex {name}",
                    f"createIndex {name} on {c.table} (no CONCURRENTLY)",
                )
            )
        elif check == "not_null" and c.kind == "addNotNullConstraint":
            column = c.attrs.get("columnName", "")
            hits.append(
                Hit(
                    "",
                    c.line,
                    f"addNotNullConstraint {c.table}.{column}",
                    f"addNotNullConstraint {c.table}.{column} is SET NOT NULL",
                )
            )
        elif check == "not_null" and c.kind == "addColumn":
            for name, not_null, has_default in c.columns:
                if not_null and not has_default:
                    hits.append(
                        Hit(
                            "",
                            c.line,
                            f"addColumn {c.table}.{name}",
                            f"addColumn {c.table}.{name} NOT NULL without a default",
                        )
                    )
        elif check == "destructive" and c.kind in {"dropTable", "dropColumn"}:
            what = c.table + (f".{c.attrs['columnName']}" if "columnName" in c.attrs else "")
            hits.append(Hit("", c.line, f"{c.kind} {what}", f"{c.kind} {what}"))
    return hits
