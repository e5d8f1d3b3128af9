"""`stopship db upgrade` and `stopship serve`'s start-up checks: settings errors name the
variable, and an unmigrated database is refused with a message that says what to run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n")
    db = tmp_path / "stopship.db"
    monkeypatch.setenv("STOPSHIP_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("STOPSHIP_GITHUB_APP_ID", "12345")
    monkeypatch.setenv("STOPSHIP_GITHUB_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("STOPSHIP_GITHUB_WEBHOOK_SECRET", "s3cret")
    return db


def test_serve_refuses_an_unmigrated_database(env: Path) -> None:
    result = runner.invoke(cli, ["serve", "--port", "8765"])
    assert result.exit_code == 2
    assert "stopship db upgrade" in result.stderr


def test_db_upgrade_creates_the_schema(env: Path) -> None:
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = {r[0] for r in sqlite3.connect(env).execute("SELECT name FROM sqlite_master")}
    assert {"deliveries", "analyses", "findings", "file_results", "alembic_version"} <= tables
    again = runner.invoke(cli, ["db", "upgrade"])  # idempotent
    assert again.exit_code == 0



def test_db_downgrade_rolls_back_to_a_release_and_upgrade_returns(env: Path) -> None:
    """The runbook's rollback: the schema goes back to an earlier release's revision (the
    waivers table is 0002's), and the next upgrade restores it."""
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    def state() -> tuple[set[str], str]:
        with sqlite3.connect(env) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        return tables, revision

    result = runner.invoke(cli, ["db", "downgrade", "0001"])
    assert result.exit_code == 0, result.output
    tables, revision = state()
    assert revision == "0001" and "waivers" not in tables and "deliveries" in tables
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    tables, revision = state()
    assert "waivers" in tables and revision != "0001"


def test_db_downgrade_to_an_unknown_revision_says_so(env: Path) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["db", "downgrade", "v9-nonsense"])
    assert result.exit_code == 2
    assert "cannot downgrade to 'v9-nonsense'" in result.stderr

@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STOPSHIP_DATABASE_URL", "postgresql://x/y", "STOPSHIP_DATABASE_URL: "),
        ("STOPSHIP_QUEUE", "celery", "STOPSHIP_QUEUE: "),
        ("STOPSHIP_GITHUB_APP_ID", "not-a-number", "STOPSHIP_GITHUB_APP_ID: "),
        ("STOPSHIP_GITHUB_API_URL", "ftp://example", "STOPSHIP_GITHUB_API_URL: "),
        ("STOPSHIP_GITHUB_WEBHOOK_SECRET", "", "STOPSHIP_GITHUB_WEBHOOK_SECRET: required"),
    ],
)
def test_settings_errors_name_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "s3cret" not in result.stderr


def test_several_workers_need_the_procrastinate_queue(env: Path) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers 2 needs STOPSHIP_QUEUE=procrastinate" in result.stderr


def test_a_concurrency_limit_beyond_the_descriptors_is_refused(env: Path) -> None:
    import resource

    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    result = runner.invoke(cli, ["serve", "--limit-concurrency", str(soft)])
    assert result.exit_code == 2
    assert "ulimit -n" in result.stderr


def test_serve_migrate_upgrades_the_database_before_its_checks(env: Path) -> None:
    """The single-container recipe: `serve --migrate` on an empty SQLite volume. (Refused after
    migrating, by a later check, so that no server starts in the test.)"""
    result = runner.invoke(cli, ["serve", "--migrate", "--workers", "2"])
    assert result.exit_code == 2
    assert "stopship db upgrade" not in result.stderr  # migrated: the next check speaks
    assert "--workers 2 needs STOPSHIP_QUEUE=procrastinate" in result.stderr
    tables = {r[0] for r in sqlite3.connect(env).execute("SELECT name FROM sqlite_master")}
    assert {"deliveries", "alembic_version"} <= tables
