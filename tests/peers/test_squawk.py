"""squawk on the SQL migrations of the corpus and of targeted fixtures: for the classes both tools
check, stopship reports at least what squawk reports, on the same line (lock_timeout: in the same
file, since stopship reports a migration without it once, at its first locking statement). Where
stopship deliberately stays quiet, `DIFFERENCES` says why.

Not shared (stopship does not check these classes): prefer-robust-stmts (IF NOT EXISTS),
require-statement-timeout, ban-drop-constraint, constraint-missing-not-valid,
adding-foreign-key-constraint, column type advice (prefer-bigint, prefer-text-field,
prefer-timestamptz, prefer-identity), renaming-column, renaming-table, changing-column-type.
"""

from __future__ import annotations

from tests.peers.comparison import (
    Difference,
    Peer,
    Shared,
    peer_tests,
    squawk,
    trees,
)

FIXTURE = "peers/fixtures/squawk"
NEW_TABLE = (
    "the table is created in the same migration: nobody else can see it, let alone hold a lock"
    " on it, until the migration commits"
)
DOWN = (
    "a down migration exists to drop what the up migration added (stopship judges neither its"
    " drops nor its locks)"
)

PEER = Peer(
    "squawk",
    squawk,
    shared={
        "require-concurrent-index-creation": Shared(("DEP005",)),
        "adding-required-field": Shared(("DEP008",)),  # ADD COLUMN NOT NULL without default
        "adding-not-nullable-field": Shared(("DEP008",)),  # SET NOT NULL
        "ban-drop-column": Shared(("DEP009",)),
        "ban-drop-table": Shared(("DEP009",)),
        "ban-truncate-cascade": Shared(("DEP009",)),
        "ban-drop-schema": Shared(("DEP009",)),
        "ban-drop-database": Shared(("DEP009",)),
        # one finding per file (DEP006), or per repository for tools that never set it (DEP007)
        "require-lock-timeout": Shared(("DEP006", "DEP007"), tolerance=None),
    },
    differences=[
        Difference(
            FIXTURE,
            "adding-not-nullable-field",
            "migrations/0013_orders_currency_not_null.sql",
            3,
            "a CHECK (currency IS NOT NULL) added in 0011 and validated in 0012 lets PostgreSQL 12+"
            " skip the scan; squawk reads one file at a time",
        ),
        # an index on a table created in the same migration
        *(
            Difference(tree, code, path, line, NEW_TABLE)
            for tree, path, line in (
                (FIXTURE, "migrations/0001_create_orders.sql", 9),
                ("corpus/go-good", "db/migrations/000001_create_accounts.up.sql", 8),
            )
            for code in ("require-concurrent-index-creation", "require-lock-timeout")
        ),
        # down migrations (stopship judges neither their drops nor their locks)
        *(
            Difference(tree, code, path, line, DOWN)
            for tree, code, path, line in (
                (FIXTURE, "ban-drop-column", "migrations/0009_orders_note.down.sql", 2),
                (
                    FIXTURE,
                    "ban-drop-column",
                    "db/migrations/20240301120000_refunds_reason.sql",  # dbmate's migrate:down
                    6,
                ),
                *(
                    (tree, code, "db/migrations/000001_create_accounts.down.sql", 1)
                    for tree in ("corpus/go-bad", "corpus/go-good")
                    for code in ("ban-drop-table", "require-lock-timeout")
                ),
                (
                    "corpus/go-good",
                    "ban-drop-column",
                    "db/migrations/000002_accounts_status.down.sql",
                    2,
                ),
                (
                    "corpus/go-good",
                    "require-lock-timeout",
                    "db/migrations/000003_accounts_status_index.down.sql",
                    1,
                ),
            )
        ),
    ],
)
TREES = trees("*.sql", "squawk")


(
    test_stopship_finds_what_squawk_finds,
    test_every_deliberate_difference_still_occurs,
    test_comparison_summary,
) = peer_tests(PEER, TREES)
