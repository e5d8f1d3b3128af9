"""Schema rules read migrations as a history: a foreign key whose table a later migration drops
is gone (DB006), a key defined again is judged once, where it was last defined, down migrations
restore what up migrations made (DB006, DB007, DB008), and a cascade on a pure join table
deletes links, not user data (DB008)."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset


def _found(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, rule: str
) -> list[tuple[str, int]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return sorted((f.path or "", f.line or 0) for f in report.findings if f.rule == rule)


def _prisma(stamp: str) -> str:
    return f"prisma/migrations/{stamp}/migration.sql"


SHEETS = (
    'CREATE TABLE "Sheet" ("id" SERIAL PRIMARY KEY, "folderId" INTEGER, '
    '"createdAt" TIMESTAMP NOT NULL);\n'
    'ALTER TABLE "Sheet" ADD CONSTRAINT "Sheet_folderId_fkey" FOREIGN KEY ("folderId") '
    'REFERENCES "Folder"("id") ON DELETE SET NULL;\n'
)
SHEETS_AGAIN = (
    'ALTER TABLE "Sheet" DROP CONSTRAINT "Sheet_folderId_fkey";\n'
    'ALTER TABLE "Sheet" ADD CONSTRAINT "Sheet_folderId_fkey" FOREIGN KEY ("folderId") '
    'REFERENCES "Folder"("id") ON DELETE CASCADE;\n'
)


def test_foreign_key_of_a_table_dropped_later_is_gone(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        _prisma("20240101000000_sheets"): SHEETS,
        _prisma("20240301000000_sheets_cascade"): SHEETS_AGAIN,
        _prisma("20240601000000_envelopes"): 'DROP TABLE "Sheet";\n',
    }
    assert _found(files, ruleset, analyzer, "DB006") == []


def test_foreign_key_defined_twice_is_judged_where_it_was_last_defined(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        _prisma("20240101000000_sheets"): SHEETS,
        _prisma("20240301000000_sheets_cascade"): SHEETS_AGAIN,
    }
    assert _found(files, ruleset, analyzer, "DB006") == [
        (_prisma("20240301000000_sheets_cascade"), 2)
    ]


def test_dropped_column_and_recreated_table(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "db/migration/V1__sheets.sql": SHEETS.replace('"', ""),
        "db/migration/V2__drop_folder.sql": "ALTER TABLE Sheet DROP COLUMN folderId;\n",
        "db/migration/V3__drop.sql": "DROP TABLE Sheet;\n",
        "db/migration/V10__sheets_again.sql": SHEETS.replace('"', ""),
    }
    # V10 runs after V3 (numeric order), so its key is current
    assert _found(files, ruleset, analyzer, "DB006") == [("db/migration/V10__sheets_again.sql", 2)]


def test_drop_before_create_in_one_file_keeps_the_key(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {"db/schema.sql": 'DROP TABLE IF EXISTS "Sheet";\n' + SHEETS}
    assert _found(files, ruleset, analyzer, "DB006") == [("db/schema.sql", 3)]


def test_down_migrations_state_no_schema(ruleset: Ruleset, analyzer: Analyzer) -> None:
    down = (
        "CREATE TABLE notes (id serial PRIMARY KEY, body text,\n"
        "  author_id int REFERENCES users ON DELETE CASCADE);\n"
    )
    files = {"migrations/2024-01-01-000000_drop_notes/down.sql": down}
    for rule in ("DB006", "DB007", "DB008"):
        assert _found(files, ruleset, analyzer, rule) == [], rule


def test_cascade_on_a_pure_join_table_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    sql = (
        "CREATE TABLE team_member (\n"
        "    id serial PRIMARY KEY,\n"
        "    team_id int REFERENCES team ON DELETE CASCADE NOT NULL,\n"
        "    user_id int REFERENCES users ON DELETE CASCADE NOT NULL,\n"
        "    published timestamp NOT NULL DEFAULT now(),\n"
        "    UNIQUE (team_id, user_id)\n"
        ");\n"
        "CREATE TABLE team_ban (\n"
        "    id serial PRIMARY KEY,\n"
        "    team_id int REFERENCES team ON DELETE CASCADE NOT NULL,\n"
        "    user_id int REFERENCES users ON DELETE CASCADE NOT NULL,\n"
        "    reason text\n"
        ");\n"
        'CREATE TABLE "_UserFollows" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL);\n'
        'ALTER TABLE "_UserFollows" ADD FOREIGN KEY ("A") REFERENCES "User"("id") '
        "ON DELETE CASCADE;\n"
        'ALTER TABLE "_UserFollows" ADD FOREIGN KEY ("B") REFERENCES "User"("id") '
        "ON DELETE CASCADE;\n"
        'ALTER TABLE "Post" ADD FOREIGN KEY ("authorId") REFERENCES "User"("id") '
        "ON DELETE CASCADE;\n"
    )
    files = {"migrations/2024-01-01-000000_teams/up.sql": sql}
    # team_ban holds data (a reason): its cascade deletes it with the user
    assert [line for _, line in _found(files, ruleset, analyzer, "DB008")] == [11, 17]
