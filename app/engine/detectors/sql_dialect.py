"""Which SQL a file is written in, and its statements when pglast (PostgreSQL's own parser) can
read them.

The PostgreSQL rules (CONCURRENTLY, lock_timeout, NOT NULL on a live table) mean nothing in
MySQL, H2, ClickHouse or SQLite, and pglast cannot read those dialects: such a file is named
for what it is ("skipped: MySQL dialect"), never reported as a PostgreSQL parse problem. The
dialect comes from evidence: a path segment (`db/mysql/schema.sql`, `V1__init_h2.sql`) or,
when pglast fails, the dialect's own syntax (backtick identifiers, `ENGINE=`, `AUTO_INCREMENT`,
`AUTOINCREMENT`, `DROP TABLE t IF EXISTS`...). A file without such evidence is PostgreSQL.

Templated SQL is read through its template where that keeps the SQL intact: Flyway `${name}`
placeholders and psql variables (`:name`, `:'name'`, `:"name"`, backslash meta-commands) are
replaced by same-length identifiers or literals, so lines and offsets stay true. A Jinja file
(`{{ }}`, `{% %}`) cannot be read without rendering it and is skipped with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pglast
from pglast import ast

from app.engine.model import ParseProblem

POSTGRESQL = "PostgreSQL"

# path segments that name a dialect (the last one naming any dialect decides)
_PATH_DIALECTS = {
    "postgres": POSTGRESQL,
    "postgresql": POSTGRESQL,
    "pg": POSTGRESQL,
    "psql": POSTGRESQL,
    "mysql": "MySQL",
    "mariadb": "MySQL",
    "h2": "H2",
    "hsqldb": "HSQLDB",
    "hsql": "HSQLDB",
    "clickhouse": "ClickHouse",
    "sqlite": "SQLite",
    "sqlite3": "SQLite",
    "mssql": "SQL Server",
    "sqlserver": "SQL Server",
    "tsql": "SQL Server",
    "oracle": "Oracle",
    "plsql": "Oracle",
    "db2": "Db2",
    "derby": "Derby",
    "snowflake": "Snowflake",
    "bigquery": "BigQuery",
}
_SEGMENT = re.compile(r"[/._-]+")

# syntax only another dialect has (checked in order, on text without comments and strings)
_CONTENT_DIALECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ClickHouse",
        re.compile(
            r"\bENGINE\s*=\s*\w*(MergeTree|Log|Distributed|Kafka|Memory)\b|\bLowCardinality\s*\("
            r"|\bON\s+CLUSTER\b",
            re.I,
        ),
    ),
    (
        "MySQL",
        re.compile(
            r"`\w+`|\bENGINE\s*=|\bAUTO_INCREMENT\b|\bUNSIGNED\b|^\s*DELIMITER\b|\bINSERT\s+IGNORE\b"
            r"|\bON\s+DUPLICATE\s+KEY\b|\bCHARSET\s*=|\bLOCK\s+TABLES\b",
            re.I | re.M,
        ),
    ),
    ("SQLite", re.compile(r"\bAUTOINCREMENT\b|^\s*PRAGMA\s|\bWITHOUT\s+ROWID\b", re.I | re.M)),
    (
        "H2",
        re.compile(
            r"\bDROP\s+TABLE\s+\w+\s+IF\s+EXISTS\b|\bCREATE\s+(MEMORY|CACHED)\s+TABLE\b", re.I
        ),
    ),
    (
        "SQL Server",
        re.compile(
            r"^\s*GO\s*$|\bNVARCHAR\b|\bIDENTITY\s*\(\s*\d+\s*,\s*\d+\s*\)|\bNONCLUSTERED\b"
            r"|\[\w+\]\s*\.",
            re.I | re.M,
        ),
    ),
    ("Oracle", re.compile(r"\bVARCHAR2\b|\bNUMBER\s*\(|^\s*/\s*$|\bNVL\s*\(", re.I | re.M)),
)
# comments and quoted text, blanked before looking for dialect syntax
_COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.S)

_JINJA = re.compile(r"\{\{-?\s*[\w.(\"']|\{%-?\s*\w")
_FLYWAY_PLACEHOLDER = re.compile(r"\$\{[\w.:-]+\}")
_PSQL_META = re.compile(r"^[ \t]*\\[a-zA-Z!][^\n]*", re.M)
_PSQL_VARIABLE = re.compile(r"(?<![:\w]):(?:'\w+'|\"\w+\"|[a-zA-Z_]\w*)(?![:=\w])")


@dataclass(frozen=True)
class SqlSource:
    """A SQL file as the rules see it: its dialect, its statements when pglast read them (None
    when it could not), and the problem to report (a skip note or a parse error)."""

    dialect: str
    statements: tuple[ast.RawStmt, ...] | None
    problem: ParseProblem | None

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == POSTGRESQL


def dialect_from_path(path: str) -> str | None:
    """The dialect a path names: a folder (`db/mysql/schema.sql`, `mysql-migrations/`) or the
    first or last word of the file name (`schema-h2.sql`, `V1__init_mysql.sql`), the nearest
    one deciding; a word inside a name (`V12__add_oracle_id.sql`) says what the migration is
    about, not its dialect."""
    *folders, name = path.lower().split("/")
    words = [w for w in _SEGMENT.split(name.rsplit(".", 1)[0]) if w]
    candidates = [w for part in folders for w in _SEGMENT.split(part)]
    if words:
        candidates += [words[0], words[-1]]
    for word in reversed(candidates):
        if word in _PATH_DIALECTS:
            return _PATH_DIALECTS[word]
    return None


def dialect_from_content(text: str) -> str | None:
    """The other dialect whose own syntax the text uses, if any."""
    code = _COMMENTS_AND_STRINGS.sub(" ", text)
    for name, pattern in _CONTENT_DIALECTS:
        if pattern.search(code):
            return name
    return None


@lru_cache(maxsize=64)  # by text: the same SQL under several paths is parsed once
def _parse(text: str) -> tuple[ast.RawStmt, ...] | str:
    try:
        return tuple(pglast.parse_sql(text))
    except pglast.parser.ParseError as exc:
        return str(exc)


def _same_length(match: re.Match[str]) -> str:
    """A stand-in of the same length for a placeholder: a literal for `:'name'`, a quoted name
    for `:"name"`, a bare name otherwise."""
    found = match.group(0)
    if found[:2] in (":'", ':"'):
        quote = found[1]
        return quote + "v" * (len(found) - 2) + quote
    return "v" * len(found)


def _untemplated(text: str) -> tuple[str, str] | None:
    """(the text with Flyway placeholders / psql variables replaced, the template's name), or
    None when the text has neither."""
    if _FLYWAY_PLACEHOLDER.search(text):
        return _FLYWAY_PLACEHOLDER.sub(_same_length, text), "Flyway placeholders"
    if _PSQL_META.search(text) or _PSQL_VARIABLE.search(_COMMENTS_AND_STRINGS.sub(" ", text)):
        blanked = _PSQL_META.sub(lambda m: " " * len(m.group(0)), text)
        return _PSQL_VARIABLE.sub(_same_length, blanked), "psql variables"
    return None


def _skipped(reason: str) -> ParseProblem:
    return ParseProblem("sql", f"skipped: {reason}")


@lru_cache(maxsize=16)
def read_sql(path: str, text: str) -> SqlSource:
    """The dialect and statements of a SQL file (see the module docstring)."""
    declared = dialect_from_path(path)
    if _JINJA.search(text):
        return SqlSource(declared or POSTGRESQL, None, _skipped("templated SQL (Jinja)"))
    parsed = _parse(text)
    template = None
    if isinstance(parsed, str) and (untemplated := _untemplated(text)) is not None:
        substituted, template = untemplated
        parsed = _parse(substituted)
    statements = None if isinstance(parsed, str) else parsed
    dialect = declared or (dialect_from_content(text) if statements is None else None)
    if dialect is not None and dialect != POSTGRESQL:
        return SqlSource(dialect, statements, _skipped(f"{dialect} dialect"))
    if statements is None:
        if template is not None:
            return SqlSource(POSTGRESQL, None, _skipped(f"templated SQL ({template})"))
        return SqlSource(POSTGRESQL, None, ParseProblem("pglast", str(parsed)[:200]))
    return SqlSource(POSTGRESQL, statements, None)
