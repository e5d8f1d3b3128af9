"""`stopship serve`: validate settings, refuse an unmigrated database, run uvicorn (which drains
in-flight requests on SIGTERM; the app's lifespan then drains running jobs)."""

from __future__ import annotations

import asyncio
import sys

from app.logs import configure_logging
from app.settings import SettingsError, load_settings
from app.store.db import make_engine
from app.store.migrate import at_head


def _say(message: str) -> None:
    sys.stderr.write(f"stopship: {message}\n")


def run_server(host: str, port: int) -> int:
    try:
        settings = load_settings()
        settings.require_for_serve()
    except SettingsError as exc:
        _say(str(exc))
        return 2
    configure_logging(settings.log_format, settings.log_level)

    async def migrated() -> bool:
        engine = make_engine(settings.database_url)
        try:
            return await at_head(engine)
        finally:
            await engine.dispose()

    try:
        ready = asyncio.run(migrated())
    except Exception as exc:  # noqa: BLE001 - any connection problem is reported, not raised
        _say(f"cannot reach the database ({type(exc).__name__}: {exc})")
        return 2
    if not ready:
        _say("the database is not migrated to the current schema: run `stopship db upgrade`")
        return 2
    import uvicorn

    from app.web.app import create_app

    uvicorn.run(
        create_app(settings), host=host, port=port, timeout_graceful_shutdown=30, log_config=None
    )
    return 0
