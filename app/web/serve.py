"""`stopship serve`: validate settings, refuse an unmigrated database (or one without the
procrastinate schema when that queue is configured), run uvicorn (which drains
in-flight requests on SIGTERM; the app's lifespan then drains running jobs)."""

from __future__ import annotations

import sys

from app.jobs.startup import database_problem
from app.logs import configure_logging
from app.settings import SettingsError, load_settings


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

    problem = database_problem(settings)
    if problem is not None:
        _say(problem)
        return 2
    import uvicorn

    from app.web.app import create_app

    uvicorn.run(
        create_app(settings), host=host, port=port, timeout_graceful_shutdown=30, log_config=None
    )
    return 0
