"""The `app` extra: the GitHub App's server stack, left out of `pip install stopship` (the CLI,
the Action and pre-commit need none of it) and checked for before `serve`, `worker` and `db`
import it."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'stopship[app]'"
# the importable name of each distribution of pyproject.toml's `app` extra
APP_MODULES = (
    "pydantic_settings",
    "markdown_it",
    "structlog",
    "fastapi",
    "uvicorn",
    "githubkit",
    "hishel",
    "jwt",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "procrastinate",
    "psycopg",
    "prometheus_client",
    "asgi_correlation_id",
    "secure",
)
# in the extra for speed, not required: serve falls back to asyncio's loop and h11 without them
OPTIONAL_APP_MODULES = ("uvloop", "httptools")


def missing_app_modules() -> list[str]:
    """The modules of the `app` extra that cannot be imported here (none when it is installed)."""
    return [m for m in APP_MODULES if importlib.util.find_spec(m) is None]
