"""Alembic, configured in code (no alembic.ini): `stopship db upgrade` and the check that `serve`
runs only on a database at the current head."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine


def migrations_dir() -> Path:
    """`migrations/` as shipped in the wheel (app/migrations) or beside the package (checkout)."""
    shipped = Path(str(resources.files("app"))) / "migrations"
    if (shipped / "env.py").is_file():
        return shipped
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str) -> None:
    """Apply every migration up to head (synchronous: run it in a thread from async code)."""
    command.upgrade(alembic_config(url), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def at_head(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()


def downgrade_to(revision: str) -> int:
    """`stopship db downgrade REVISION`: undo the migrations after `revision` (a rollback to the
    release whose head it is); 0 on success, 2 on a settings error or an unknown revision."""
    from alembic.util import CommandError

    from app.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.stderr.write(f"stopship: {exc}\n")
        return 2
    try:
        command.downgrade(alembic_config(settings.database_url), revision)
    except CommandError as exc:
        sys.stderr.write(f"stopship: cannot downgrade to {revision!r}: {exc}\n")
        return 2
    sys.stdout.write(f"stopship: database at {revision}\n")
    return 0


def upgrade_head() -> int:
    """`stopship db upgrade`: 0 on success, 2 on a settings error."""
    from app.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.stderr.write(f"stopship: {exc}\n")
        return 2
    upgrade(settings.database_url)
    sys.stdout.write(f"stopship: database at {head_revision()}\n")
    return 0
