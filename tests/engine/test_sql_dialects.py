"""SQL files in other dialects and templated SQL: read as such, or skipped with the reason,
never reported as PostgreSQL parse problems nor judged by the PostgreSQL-only rules."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.detectors.sql_dialect import dialect_from_content, dialect_from_path
from app.engine.memory import audit_files
from app.engine.model import ParseProblem
from app.engine.ruleset import Ruleset


def _rules(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer) -> list[tuple[str, int]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return sorted((f.rule, f.line or 0) for f in report.findings if f.path in files)


def _problems(path: str, text: str, analyzer: Analyzer) -> list[ParseProblem]:
    return analyzer.analyze(path, text.encode()).problems


MYSQL_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS customers (\n"
    "  id INT(4) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    "  name VARCHAR(30)\n"
    ") engine=InnoDB;\n"
    "CREATE TABLE IF NOT EXISTS invoices (\n"
    "  id INT(4) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    "  customer_id INT(4) UNSIGNED NOT NULL,\n"
    "  FOREIGN KEY (customer_id) REFERENCES customers(id)\n"
    ") engine=InnoDB;\n"
)


@pytest.mark.parametrize(
    ("path", "text", "dialect"),
    [
        ("src/main/resources/db/mysql/schema.sql", MYSQL_SCHEMA, "MySQL"),
        ("db/schema.sql", MYSQL_SCHEMA, "MySQL"),  # by its syntax alone
        (
            "src/main/resources/db/h2/schema.sql",
            "DROP TABLE invoices IF EXISTS;\nCREATE TABLE invoices (id INTEGER IDENTITY);\n",
            "H2",
        ),
        ("db/schema.sql", "DROP TABLE invoices IF EXISTS;\n", "H2"),
        (
            "db/events.sql",
            "CREATE TABLE events (id UInt64, at DateTime)\nENGINE = MergeTree ORDER BY id;\n",
            "ClickHouse",
        ),
        (
            "db/local.sql",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);\n",
            "SQLite",
        ),
    ],
)
def test_other_dialect_is_skipped_with_its_name(
    path: str, text: str, dialect: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert _problems(path, text, analyzer) == [ParseProblem("sql", f"skipped: {dialect} dialect")]
    assert _rules({path: text}, ruleset, analyzer) == []


def test_postgresql_rules_do_not_judge_a_mysql_migration(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    # pglast reads these statements, but CONCURRENTLY and lock_timeout are PostgreSQL's
    path = "src/main/resources/db/migration/mysql/V3__invoice_status.sql"
    text = (
        "CREATE INDEX invoices_status_idx ON invoices (status);\n"
        "ALTER TABLE invoices ADD COLUMN currency varchar(3) NOT NULL;\n"
        "DROP TABLE legacy_invoices;\n"
    )
    assert _rules({path: text}, ruleset, analyzer) == [("DEP009", 3)]
    assert _problems(path, text, analyzer) == [ParseProblem("sql", "skipped: MySQL dialect")]


def test_mysql_syntax_in_a_migration_is_not_judged_as_postgresql(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    path = "db/migration/V4__invoice_currency.sql"
    text = "ALTER TABLE `invoices` ADD COLUMN `currency` varchar(3) NOT NULL;\n"
    assert _rules({path: text}, ruleset, analyzer) == []
    assert _problems(path, text, analyzer) == [ParseProblem("sql", "skipped: MySQL dialect")]


def test_flyway_placeholders_are_read_through(ruleset: Ruleset, analyzer: Analyzer) -> None:
    path = "src/main/resources/db/migration/V5__invoice_status.sql"
    text = (
        "SET lock_timeout = '5s';\n"
        "CREATE INDEX invoices_status_idx ON ${schema}.invoices (status);\n"
        "GRANT SELECT ON ${schema}.invoices TO ${flyway:user};\n"
    )
    assert _rules({path: text}, ruleset, analyzer) == [("DEP005", 2)]
    assert _problems(path, text, analyzer) == []


def test_psql_variables_are_read_through(ruleset: Ruleset, analyzer: Analyzer) -> None:
    path = "migrations/0006_invoice_status.sql"
    text = (
        "\\set ON_ERROR_STOP on\n"
        "SET lock_timeout = :'lock_timeout';\n"
        "ALTER TABLE :\"schema\".invoices ALTER COLUMN status SET NOT NULL;\n"
        "UPDATE invoices SET status = 'new'::text WHERE owner = :owner_id;\n"
    )
    assert _rules({path: text}, ruleset, analyzer) == [("DEP008", 3)]
    assert _problems(path, text, analyzer) == []


def test_jinja_sql_is_skipped_as_templated(ruleset: Ruleset, analyzer: Analyzer) -> None:
    path = "migrations/0007_totals.sql"
    text = "{% set t = 'invoices' %}\nALTER TABLE {{ t }} ALTER COLUMN status SET NOT NULL;\n"
    assert _rules({path: text}, ruleset, analyzer) == []
    skipped = ParseProblem("sql", "skipped: templated SQL (Jinja)")
    assert _problems(path, text, analyzer) == [skipped]


def test_broken_postgresql_is_still_a_parse_problem(analyzer: Analyzer) -> None:
    problems = _problems("migrations/0008_broken.sql", "ALTER TABLE invoices ADD;\n", analyzer)
    assert [p.parser for p in problems] == ["pglast"]


@pytest.mark.parametrize(
    ("path", "dialect"),
    [
        ("src/main/resources/db/mysql/schema.sql", "MySQL"),
        ("db/migration/V1__init_mariadb.sql", "MySQL"),
        ("db/postgres/schema.sql", "PostgreSQL"),
        ("db/mysql/postgres/schema.sql", "PostgreSQL"),  # the nearest segment decides
        ("migrations/h2_compat.sql", "H2"),
        ("migrations/0001_init.sql", None),
        ("db/migration/V12__add_oracle_id_to_accounts.sql", None),
        ("db/schema.mysql.sql", "MySQL"),
        ("db/mysql-migrations/0001_init.sql", "MySQL"),
    ],
)
def test_dialect_from_path(path: str, dialect: str | None) -> None:
    assert dialect_from_path(path) == dialect


def test_dialect_markers_in_comments_and_strings_do_not_count() -> None:
    text = "-- was `AUTO_INCREMENT` in MySQL\nINSERT INTO notes VALUES ('ENGINE=InnoDB');\n"
    assert dialect_from_content(text) is None
