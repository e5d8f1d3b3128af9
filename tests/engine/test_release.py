"""Release-relative judgement in the engine: migrations up to the baseline are history (not
findings, not scored, counted in one line), the release tag is chosen by one rule, and the report
kept file by file follows a baseline that moves."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import StopshipConfig, parse_config
from app.engine.release import (
    NO_BASELINE,
    ReleaseBaseline,
    is_migration_file,
    release_tag,
    tag_matches,
)
from app.engine.report import Report
from app.engine.report_cache import ReportState
from app.engine.ruleset import Ruleset
from tests.engine.test_report_cache import assert_same

OLD = "db/migrations/0001_orders_status.sql"
NEW = "db/migrations/0002_users_status.sql"
TREE = {
    OLD: "ALTER TABLE orders ADD COLUMN status text NOT NULL;\n",
    NEW: "ALTER TABLE users ADD COLUMN status text NOT NULL;\n",
    # a credential a migration seeded is still in the database: security findings stay
    "db/migrations/0001_seed.py": 'ADMIN_PASSWORD = "Zq8xT4mLp2w9Rk"\n',
    "app/users.py": 'def q(c, x):\n    c.execute(f"DELETE FROM users WHERE id = {x}")\n',
}


def audit(
    analyzer: Analyzer, ruleset: Ruleset, release: ReleaseBaseline, tree: dict[str, str] = TREE
) -> Report:
    results = {p: analyzer.analyze(p, t.encode()) for p, t in tree.items()}
    return build_report(
        ruleset,
        StopshipConfig(),
        AuditInput("r", sorted(results), results, date="2030-01-01", release=release),
    )


def test_migrations_the_baseline_holds_unchanged_are_history(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    everything = audit(analyzer, ruleset, NO_BASELINE)
    assert {OLD, NEW} <= {f.path for f in everything.findings if f.rule == "DEP008"}

    release = ReleaseBaseline("v1.0.0", "tag", frozenset({NEW, "app/users.py"}))
    report = audit(analyzer, ruleset, release)
    paths = {f.path for f in report.findings}
    assert OLD not in paths  # ran in production with v1.0.0
    assert NEW in paths  # the next deployment runs it
    assert "db/migrations/0001_seed.py" in paths  # a security finding in history stays
    assert report.score > everything.score  # history is not scored
    assert report.migrations is not None
    assert report.migrations.describe() == (
        "2 migration(s) up to v1.0.0 treated as applied; 1 added or changed since then judged"
    )


def test_without_a_baseline_every_migration_is_judged_and_the_report_says_how_to_set_one(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    report = audit(analyzer, ruleset, NO_BASELINE)
    assert report.migrations is not None
    line = report.migrations.describe()
    assert line.startswith("3 migration(s) judged: no release baseline")
    assert "baseline:" in line and "tag releases" in line


def test_what_counts_as_a_migration_file() -> None:
    assert is_migration_file("app/migrations/0002_add.py")
    assert is_migration_file("migrations/2024-01-01-000000_x/up.sql")
    assert is_migration_file("alembic/versions/3f2a_orders.py")
    assert is_migration_file("db/changelog/001-refunds.yaml")
    assert not is_migration_file("app/migrations/__init__.py")
    assert not is_migration_file("alembic/env.py")
    assert not is_migration_file("app/users.py")
    assert not is_migration_file("migrations/README.md")


def test_release_tags_match_globs_and_exclusions() -> None:
    defaults = ("v[0-9]*", "[0-9]*")
    assert tag_matches("v4.1.3", defaults)
    assert tag_matches("2024.05", defaults)
    assert tag_matches("1.0.0-beta.1", defaults)
    assert not tag_matches("latest", defaults)
    assert not tag_matches("docs-v1", defaults)
    stable = ("v[0-9]*", "!*-*")
    assert tag_matches("v4.1.3", stable)
    assert not tag_matches("v4.2.0-rc1", stable)


def test_the_release_tag_is_the_first_tagged_commit_of_the_walk() -> None:
    tags = {"c3": ["v2.0.0-rc1"], "c5": ["v1.9.0", "v1.9.0-final", "nightly"], "c9": ["v1.0.0"]}
    walk = ["c1", "c2", "c3", "c4", "c5", "c6", "c9"]
    assert release_tag(tags, walk) == ("v2.0.0-rc1", "c3")
    assert release_tag(tags, walk, ("v[0-9]*", "!*-*")) == ("v1.9.0", "c5")
    assert release_tag(tags, walk, ("release-*",)) is None
    assert release_tag({"c1500": ["v1"]}, (f"c{i}" for i in range(2000))) is None  # bounded


def test_the_config_names_a_baseline_and_release_tags() -> None:
    config = parse_config(b"baseline: v4.1.3\nrelease_tags: ['v*', '!*-rc*']\n")
    assert config.baseline == "v4.1.3"
    assert config.release_tags == ("v*", "!*-rc*")
    for bad, key in ((b"baseline: '--upload-pack=x'\n", "baseline"), (b"release_tags: ['']\n",
                     "release_tags: [0]")):  # fmt: skip
        try:
            parse_config(bad)
        except ValueError as exc:
            assert f".github/stopship.yml: {key}" in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_the_report_kept_file_by_file_follows_a_baseline_that_moves(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    results = {p: analyzer.analyze(p, t.encode()) for p, t in TREE.items()}
    releases = [
        NO_BASELINE,
        ReleaseBaseline("v1", "tag", frozenset({NEW})),
        ReleaseBaseline("v2", "tag", frozenset()),
        ReleaseBaseline("v0", "tag", frozenset({OLD, NEW, "db/migrations/0001_seed.py"})),
        NO_BASELINE,
    ]
    state = ReportState.build(ruleset, StopshipConfig(), results)
    for release in releases:
        state = state.updated(results, (), release)
        want = build_report(
            ruleset,
            StopshipConfig(),
            AuditInput("r", sorted(results), results, date="2030-01-01", release=release),
        )
        assert_same(state.report("r", date="2030-01-01"), want)
    built = ReportState.build(ruleset, StopshipConfig(), results, releases[1])
    assert built.release == releases[1]
    assert built.updated(results, (), releases[1]) is built
