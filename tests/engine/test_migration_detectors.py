"""Migration checks as a user sees them: which finding, on which line, and (as much) which files
stay quiet. Down migrations, tables created in the same migration, concurrent index builds inside
`autocommit_block()`, test fixtures and unparseable SQL must not produce findings."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.model import Finding
from app.engine.ruleset import Ruleset


def rule_id(ruleset: Ruleset, name: str) -> str:
    matches = [r.id for r in ruleset.rules if r.name == name]
    assert matches, f"no rule named {name}"
    return matches[0]


def findings(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, name: str
) -> list[Finding]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    wanted = rule_id(ruleset, name)
    return [f for f in report.findings if f.rule == wanted]


INDEX = "migration-index-not-concurrent"
LOCK = "migration-no-lock-timeout"
REPO_LOCK = "migrations-never-set-lock-timeout"
NOT_NULL = "migration-not-null-without-default"
DESTRUCTIVE = "migration-destructive"
IRREVERSIBLE = "migration-irreversible"

# --------------------------------------------------------------------------------------------
# PostgreSQL .sql migrations (pglast)


def test_sql_index_reported_on_its_line(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = (
        "-- orders are filtered by status on the dashboard\n"
        "SET lock_timeout = '5s';\n"
        "\n"
        "/* a multi-line\n"
        "   comment */\n"
        "CREATE INDEX orders_status_idx\n"
        "    ON orders (status);\n"
    )
    found = findings({"migrations/0007_orders_status.sql": sql}, ruleset, analyzer, INDEX)
    assert [f.line for f in found] == [6]
    assert "orders_status_idx" in found[0].message


def test_sql_index_on_table_created_in_same_file_is_quiet(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        "CREATE TABLE refunds (id bigserial PRIMARY KEY, order_id bigint NOT NULL);\n"
        "CREATE INDEX refunds_order_id_idx ON refunds (order_id);\n"
        "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n"
    )
    files = {"migrations/0008_refunds.sql": sql}
    assert findings(files, ruleset, analyzer, INDEX) == []
    assert findings(files, ruleset, analyzer, LOCK) == []


def test_sql_lock_timeout_missing_points_at_first_locking_statement(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        "CREATE TABLE notes (id bigserial PRIMARY KEY);\n"
        "ALTER TABLE orders ADD COLUMN note_id bigint;\n"
        "ALTER TABLE orders ADD COLUMN flagged boolean;\n"
    )
    found = findings({"migrations/0009_notes.sql": sql}, ruleset, analyzer, LOCK)
    assert [f.line for f in found] == [2]


def test_sql_lock_timeout_set_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n"
    assert findings({"migrations/0009_note.sql": sql}, ruleset, analyzer, LOCK) == []
    local = (
        "BEGIN;\nSET LOCAL lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n"
    )
    assert findings({"migrations/0009_note.sql": local}, ruleset, analyzer, LOCK) == []


def test_sql_add_not_null_column_without_default_is_stop_ship(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR';\n"
        "ALTER TABLE orders ADD COLUMN status text NOT NULL;\n"
    )
    found = findings({"migrations/0010_status.sql": sql}, ruleset, analyzer, NOT_NULL)
    assert [f.line for f in found] == [3]
    assert found[0].stop_ship
    assert "status" in found[0].message


def test_sql_not_null_column_on_new_table_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = (
        "CREATE TABLE refunds (id bigserial PRIMARY KEY);\n"
        "ALTER TABLE refunds ADD COLUMN reason text NOT NULL;\n"
    )
    assert findings({"migrations/0011_refunds.sql": sql}, ruleset, analyzer, NOT_NULL) == []


def test_sql_set_not_null_needs_check_constraint_pattern(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    bad = "SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"
    found = findings({"migrations/0012_status.sql": bad}, ruleset, analyzer, NOT_NULL)
    assert [f.line for f in found] == [2]
    good = (
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_status_nn CHECK (status IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn;\n"
        "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"
        "ALTER TABLE orders DROP CONSTRAINT orders_status_nn;\n"
    )
    assert findings({"migrations/0012_status.sql": good}, ruleset, analyzer, NOT_NULL) == []


def test_sql_destructive_statements_in_up_migration(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = (
        "SET lock_timeout = '5s';\n"
        "DROP TABLE legacy_invoices;\n"
        "ALTER TABLE orders DROP COLUMN legacy_total;\n"
        "TRUNCATE audit_scratch;\n"
    )
    found = findings({"migrations/0013_cleanup.sql": sql}, ruleset, analyzer, DESTRUCTIVE)
    assert sorted(f.line or 0 for f in found) == [2, 3, 4]


@pytest.mark.parametrize(
    "path",
    [
        "migrations/000013_cleanup.down.sql",
        "migrations/0013_cleanup_down.sql",
        "db/migrations/20240101_cleanup/down.sql",
    ],
)
def test_sql_down_migrations_may_drop_things(
    path: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = "DROP TABLE refunds;\nALTER TABLE orders DROP COLUMN note;\n"
    report = audit_files({path: sql}, ruleset, analyzer=analyzer)
    migration_rules = {rule_id(ruleset, n) for n in (INDEX, LOCK, NOT_NULL, DESTRUCTIVE)}
    assert [f for f in report.findings if f.rule in migration_rules] == []


def test_sql_in_test_fixtures_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = "DROP TABLE orders;\nCREATE INDEX orders_idx ON orders (id);\n"
    report = audit_files(
        {"tests/fixtures/migrations/0001_drop.sql": sql}, ruleset, analyzer=analyzer
    )
    assert [f for f in report.findings if f.category == "deployment" and f.path] == []


def test_unparseable_sql_is_a_parse_problem_not_a_crash(analyzer: Analyzer) -> None:
    mysql = (
        "ALTER TABLE `orders` ADD COLUMN `note` varchar(20) NOT NULL AFTER `id`,"
        " ALGORITHM=INPLACE, LOCK=NONE;\n"
    )
    result = analyzer.analyze("migrations/0014_note.sql", mysql.encode())
    assert result.problems, "a file pglast cannot parse must be reported"
    assert all(problem.parser for problem in result.problems)
    assert result.hits == []


def test_prisma_lock_timeout_reported_once_per_repository(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        f"prisma/migrations/2024010{i}120000_step{i}/migration.sql": (
            f'-- AlterTable\nALTER TABLE "Order" ADD COLUMN "note{i}" TEXT;\n'
        )
        for i in range(1, 4)
    }
    assert findings(files, ruleset, analyzer, LOCK) == []
    assert len(findings(files, ruleset, analyzer, REPO_LOCK)) == 1


# --------------------------------------------------------------------------------------------
# alembic revisions (ast)

ALEMBIC_INDEX = '''"""orders by status

Revision ID: 3f2a9c1d7e4b
"""
from alembic import op

revision = "3f2a9c1d7e4b"
down_revision = "2e1f8b0c6d3a"


def upgrade() -> None:
    op.create_index("orders_status_idx", "orders", ["status"])


def downgrade() -> None:
    op.drop_index("orders_status_idx", table_name="orders")
'''


def test_alembic_create_index_without_concurrently(ruleset: Ruleset, analyzer: Analyzer) -> None:
    path = "migrations/versions/3f2a9c1d7e4b_orders_status.py"
    found = findings({path: ALEMBIC_INDEX}, ruleset, analyzer, INDEX)
    assert [f.line for f in found] == [12]
    assert "orders_status_idx" in found[0].message
    # The fix must explain why postgresql_concurrently=True alone is not enough.
    assert "transaction" in found[0].fix and "autocommit_block" in found[0].fix


def test_alembic_concurrent_index_in_autocommit_block_is_quiet(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = ALEMBIC_INDEX.replace(
        '    op.create_index("orders_status_idx", "orders", ["status"])',
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("orders_status_idx", "orders", ["status"],'
        " postgresql_concurrently=True)",
    )
    path = "alembic/versions/3f2a9c1d7e4b_orders_status.py"
    assert findings({path: source}, ruleset, analyzer, INDEX) == []


def test_alembic_index_on_table_created_in_same_upgrade_is_quiet(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\n"
        "def upgrade():\n"
        '    op.create_table("refunds", sa.Column("id", sa.BigInteger(), primary_key=True),\n'
        '                    sa.Column("order_id", sa.BigInteger(), nullable=False))\n'
        '    op.create_index("refunds_order_id_idx", "refunds", ["order_id"])\n\n\n'
        "def downgrade():\n"
        '    op.drop_table("refunds")\n'
    )
    files = {"migrations/versions/5c2d3e4f6a7b_refunds.py": source}
    assert findings(files, ruleset, analyzer, INDEX) == []
    assert findings(files, ruleset, analyzer, NOT_NULL) == []
    assert findings(files, ruleset, analyzer, DESTRUCTIVE) == []


@pytest.mark.parametrize(
    "body", ["    pass", '    """Irreversible."""', '    """Nothing to undo."""\n    pass']
)
def test_alembic_empty_downgrade_is_irreversible(
    body: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\n"
        "def upgrade():\n"
        '    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))\n\n\n'
        f"def downgrade():\n{body}\n"
    )
    found = findings(
        {"migrations/versions/6d3e4f5a7b8c_note.py": source}, ruleset, analyzer, IRREVERSIBLE
    )
    assert [f.line for f in found] == [9]


def test_alembic_merge_revision_with_nothing_to_undo_is_quiet(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        '"""merge heads"""\n'
        'revision = "7e4f5a6b8c9d"\n'
        'down_revision = ("3f2a9c1d7e4b", "5c2d3e4f6a7b")\n\n\n'
        "def upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )
    files = {"migrations/versions/7e4f5a6b8c9d_merge.py": source}
    assert findings(files, ruleset, analyzer, IRREVERSIBLE) == []


def test_alembic_drops_in_upgrade_not_in_downgrade(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\n"
        "def upgrade():\n"
        '    op.drop_column("orders", "legacy_total")\n'
        '    op.create_table("refunds", sa.Column("id", sa.BigInteger(), primary_key=True))\n\n\n'
        "def downgrade():\n"
        '    op.drop_table("refunds")\n'
        '    op.add_column("orders", sa.Column("legacy_total", sa.Numeric(), nullable=True))\n'
    )
    found = findings(
        {"migrations/versions/8f5a6b7c9d0e_drop.py": source}, ruleset, analyzer, DESTRUCTIVE
    )
    assert [f.line for f in found] == [6]
    assert "legacy_total" in found[0].message


def test_alembic_not_null_column_without_server_default(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\n"
        "def upgrade():\n"
        '    op.add_column("orders", sa.Column("currency", sa.String(3), nullable=False,'
        ' server_default="EUR"))\n'
        '    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False))\n\n\n'
        "def downgrade():\n"
        '    op.drop_column("orders", "status")\n'
        '    op.drop_column("orders", "currency")\n'
    )
    found = findings(
        {"migrations/versions/4b1e2f3a5c6d_status.py": source}, ruleset, analyzer, NOT_NULL
    )
    assert [f.line for f in found] == [7]
    assert found[0].stop_ship


def test_alembic_syntax_error_is_a_parse_problem(analyzer: Analyzer) -> None:
    source = "from alembic import op\n\ndef upgrade(:\n    op.drop_table('orders')\n"
    result = analyzer.analyze("migrations/versions/9a6b7c8d0e1f_broken.py", source.encode())
    assert any(p.parser == "python" for p in result.problems)


def test_alembic_env_py_and_test_migrations_are_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    env = (
        "from alembic import context\n\n\n"
        "def run_migrations_online(connection):\n"
        "    connection.exec_driver_sql(\"SET lock_timeout = '5s'\")\n"
        "    context.configure(connection=connection)\n"
    )
    files = {
        "migrations/env.py": env,
        "tests/migrations/versions/0001_drop.py": (
            "from alembic import op\n\ndef upgrade():\n    op.drop_table('orders')\n\n"
            "def downgrade():\n    pass\n"
        ),
    }
    report = audit_files(files, ruleset, analyzer=analyzer)
    assert [f for f in report.findings if f.category == "deployment" and f.path] == []


# --------------------------------------------------------------------------------------------
# Django migrations (ast)

DJANGO_HEAD = (
    "from django.db import migrations, models\n\n\n"
    "class Migration(migrations.Migration):\n"
    '    dependencies = [("shop", "0004_order")]\n\n'
    "    operations = [\n"
)


def django(*operations: str, atomic: bool = True) -> str:
    head = (
        DJANGO_HEAD
        if atomic
        else DJANGO_HEAD.replace("    dependencies", "    atomic = False\n    dependencies")
    )
    return head + "".join(f"        {op},\n" for op in operations) + "    ]\n"


def add_field(model: str, name: str, field: str) -> str:
    return f'migrations.AddField(model_name="{model}", name="{name}", field={field})'


def add_index(operation: str, model: str, column: str) -> str:
    index = f'models.Index(fields=["{column}"], name="{model}_{column}_idx")'
    return f'{operation}(model_name="{model}", index={index})'


def test_django_add_field_without_default(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = django(
        add_field("order", "note", "models.TextField(null=True)"),
        add_field("order", "paid", "models.BooleanField(default=False)"),
        add_field("order", "tags", 'models.ManyToManyField(to="shop.tag")'),
        add_field("order", "slug", "models.SlugField(max_length=80)"),
    )
    found = findings({"shop/migrations/0005_order_fields.py": source}, ruleset, analyzer, NOT_NULL)
    assert [f.line for f in found] == [11]
    assert "slug" in found[0].message
    assert found[0].stop_ship


def test_django_new_model_fields_and_indexes_are_quiet(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = django(
        'migrations.CreateModel(name="Refund",'
        ' fields=[("id", models.BigAutoField(primary_key=True))])',
        add_field("refund", "reason", "models.TextField()"),
        add_index("migrations.AddIndex", "refund", "reason"),
    )
    files = {"shop/migrations/0006_refund.py": source}
    assert findings(files, ruleset, analyzer, NOT_NULL) == []
    assert findings(files, ruleset, analyzer, INDEX) == []


def test_django_remove_field_and_delete_model_are_destructive(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = django(
        'migrations.RemoveField(model_name="order", name="legacy_total")',
        'migrations.DeleteModel(name="LegacyInvoice")',
    )
    found = findings({"shop/migrations/0007_cleanup.py": source}, ruleset, analyzer, DESTRUCTIVE)
    assert sorted(f.line or 0 for f in found) == [8, 9]


def test_django_add_index_needs_concurrently(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = django(add_index("migrations.AddIndex", "order", "status"))
    found = findings({"shop/migrations/0008_order_status.py": source}, ruleset, analyzer, INDEX)
    assert [f.line for f in found] == [8]
    assert "atomic = False" in found[0].fix


def test_django_add_index_concurrently_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = "from django.contrib.postgres.operations import AddIndexConcurrently\n" + django(
        add_index("AddIndexConcurrently", "order", "status"),
        atomic=False,
    )
    files = {"shop/migrations/0008_order_status.py": source}
    assert findings(files, ruleset, analyzer, INDEX) == []


# --------------------------------------------------------------------------------------------
# Former gaps (strict xfails until they were fixed): single-file down sections, Flyway undo
# files, the check-constraint pattern spread over several migrations.


@pytest.mark.parametrize(
    "sql",
    [
        # dbmate
        "-- migrate:up\nSET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n\n"
        "-- migrate:down\nALTER TABLE orders DROP COLUMN note;\n",
        # goose
        "-- +goose Up\nSET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n\n"
        "-- +goose Down\nALTER TABLE orders DROP COLUMN note;\n",
    ],
    ids=["dbmate", "goose"],
)
def test_down_section_of_a_single_file_migration_may_drop_things(
    sql: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert (
        findings({"db/migrations/20240101120000_note.sql": sql}, ruleset, analyzer, DESTRUCTIVE)
        == []
    )


def test_flyway_undo_migration_may_drop_things(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "src/main/resources/db/migration/U2__note.sql": "ALTER TABLE orders DROP COLUMN note;\n"
    }
    assert findings(files, ruleset, analyzer, DESTRUCTIVE) == []


def test_check_constraint_validated_in_an_earlier_migration(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "migrations/0001_status_check.sql": (
            "SET lock_timeout = '5s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_status_nn"
            " CHECK (status IS NOT NULL) NOT VALID;\n"
        ),
        "migrations/0002_status_validate.sql": (
            "SET lock_timeout = '5s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn;\n"
        ),
        "migrations/0003_status_not_null.sql": (
            "SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"
        ),
    }
    assert findings(files, ruleset, analyzer, NOT_NULL) == []


def _status_migrations(check: str, validate: str | None, set_not_null: str) -> dict[str, str]:
    files = {
        check: "SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_status_nn"
        " CHECK (status IS NOT NULL) NOT VALID;\n",
        set_not_null: "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n",
    }
    if validate is not None:
        files[validate] = (
            "SET lock_timeout = '5s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn;\n"
        )
    return files


@pytest.mark.parametrize(
    "files",
    [
        # Flyway orders V2 before V10, whatever the string order says
        _status_migrations(
            "db/migration/V2__check.sql",
            "db/migration/V9__validate.sql",
            "db/migration/V10__nn.sql",
        ),
        # a CHECK added without NOT VALID is validated on the spot
        {
            "migrations/0001_check.sql": "SET lock_timeout = '5s';\nALTER TABLE orders ADD"
            " CONSTRAINT orders_status_nn CHECK (status IS NOT NULL AND status <> '');\n",
            "migrations/0002_nn.sql": "SET lock_timeout = '5s';\n"
            "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n",
        },
    ],
    ids=["flyway-order", "validated-on-add"],
)
def test_check_constraint_from_earlier_migrations_covers_set_not_null(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert findings(files, ruleset, analyzer, NOT_NULL) == []


@pytest.mark.parametrize(
    ("files", "flagged"),
    [
        # added NOT VALID and never validated: SET NOT NULL still scans the table
        (_status_migrations("migrations/0001_a.sql", None, "migrations/0003_c.sql"), "0003_c"),
        # validated only after the SET NOT NULL ran
        (
            _status_migrations(
                "migrations/0001_a.sql", "migrations/0004_d.sql", "migrations/0003_c.sql"
            ),
            "0003_c",
        ),
        # another migration folder (another database)
        (
            _status_migrations(
                "billing/migrations/0001_a.sql",
                "billing/migrations/0002_b.sql",
                "ledger/migrations/0003_c.sql",
            ),
            "0003_c",
        ),
    ],
    ids=["never-validated", "validated-later", "other-folder"],
)
def test_check_constraint_that_does_not_cover_set_not_null(
    files: dict[str, str], flagged: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    found = findings(files, ruleset, analyzer, NOT_NULL)
    assert [(f.path.rsplit("/", 1)[-1].split(".")[0], f.line) for f in found] == [(flagged, 2)]


def test_check_constraint_on_another_table_does_not_cover_set_not_null(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE refunds ADD CONSTRAINT refunds_reason_nn"
        " CHECK (reason IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE refunds VALIDATE CONSTRAINT refunds_reason_nn;\n"
        "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"
    )
    found = findings({"migrations/0004_not_null.sql": sql}, ruleset, analyzer, NOT_NULL)
    assert [f.line for f in found] == [4]


def test_alembic_set_not_null_with_check_constraint_pattern(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        "from alembic import op\n\n\n"
        "def upgrade():\n"
        '    op.create_check_constraint("orders_status_nn", "orders", "status IS NOT NULL",'
        " postgresql_not_valid=True)\n"
        '    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn")\n'
        '    op.alter_column("orders", "status", nullable=False)\n'
        '    op.drop_constraint("orders_status_nn", "orders", type_="check")\n\n\n'
        "def downgrade():\n"
        '    op.alter_column("orders", "status", nullable=True)\n'
    )
    files = {"migrations/versions/2a3b4c5d6e7f_status_not_null.py": source}
    assert findings(files, ruleset, analyzer, NOT_NULL) == []


def test_alembic_concurrent_index_outside_autocommit_block(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    """CREATE INDEX CONCURRENTLY cannot run inside alembic's transaction: it fails at deploy."""
    source = ALEMBIC_INDEX.replace('["status"])', '["status"], postgresql_concurrently=True)', 1)
    path = "migrations/versions/3f2a9c1d7e4b_orders_status.py"
    found = findings({path: source}, ruleset, analyzer, INDEX)
    assert [f.line for f in found] == [12]


def test_alembic_batch_add_not_null_column(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\n"
        "def upgrade():\n"
        '    with op.batch_alter_table("orders") as batch_op:\n'
        '        batch_op.add_column(sa.Column("status", sa.Text(), nullable=False))\n\n\n'
        "def downgrade():\n"
        '    with op.batch_alter_table("orders") as batch_op:\n'
        '        batch_op.drop_column("status")\n'
    )
    files = {"migrations/versions/4b1e2f3a5c6d_status.py": source}
    assert [f.line for f in findings(files, ruleset, analyzer, NOT_NULL)] == [7]


# --------------------------------------------------------------------------------------------
# Tables the migration itself creates by other means than CREATE TABLE


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE order_totals AS\nSELECT customer_id, sum(total) AS total\nFROM orders;\n",
        "SELECT customer_id, sum(total) AS total\nINTO order_totals\nFROM orders;\n",
        "CREATE MATERIALIZED VIEW order_totals AS\nSELECT customer_id, total\nFROM orders;\n",
        "CREATE TABLE order_totals_new AS SELECT customer_id, total FROM orders;\n"
        "ALTER TABLE order_totals_new RENAME TO order_totals;\n",
    ],
)
def test_table_created_by_a_query_in_the_same_file_is_new(
    create: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        create + "ALTER TABLE order_totals\n"
        "    ALTER COLUMN customer_id SET NOT NULL,\n"
        "    ADD COLUMN note text NOT NULL;\n"
        "CREATE INDEX order_totals_customer_idx ON order_totals (customer_id);\n"
    )
    files = {"migrations/2024-01-02-000000_order_totals/up.sql": sql}
    for name in (NOT_NULL, INDEX, LOCK):
        assert findings(files, ruleset, analyzer, name) == [], name


def test_set_not_null_on_an_existing_table_beside_a_new_one_is_reported(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    sql = (
        "CREATE TABLE order_totals AS SELECT customer_id FROM orders;\n"
        "ALTER TABLE order_totals ALTER COLUMN customer_id SET NOT NULL;\n"
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n"
    )
    files = {"migrations/2024-01-02-000000_order_totals/up.sql": sql}
    assert [f.line for f in findings(files, ruleset, analyzer, NOT_NULL)] == [3]
