"""`process()`: what every delivery's run leaves behind, whatever its event."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import structlog

from app.jobs import handlers
from app.jobs.handlers import process
from app.store.db import make_engine, make_sessions
from app.store.migrate import upgrade
from app.store.models import Delivery


async def test_log_lines_of_a_job_carry_its_delivery_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
    engine = make_engine(url)
    sessions = make_sessions(engine)
    async with sessions() as session:
        session.add(Delivery(id="d-42", event="ping", payload="{}", status="accepted"))
        await session.commit()
    seen: list[dict[str, object]] = []

    def keep(_logger: object, _method: str, event: dict[str, object]) -> dict[str, object]:
        seen.append(dict(event))
        raise structlog.DropEvent

    structlog.configure(processors=[structlog.contextvars.merge_contextvars, keep])
    # another test may have configured structlog with cached loggers: take a fresh one
    monkeypatch.setattr(handlers, "log", structlog.get_logger())
    try:
        assert await process(sessions, "d-42") == "done"
    finally:
        structlog.reset_defaults()
        await engine.dispose()
    assert seen and all(e.get("delivery_id") == "d-42" for e in seen)
    assert structlog.contextvars.get_contextvars() == {}
