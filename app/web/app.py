"""The FastAPI application: `POST /webhooks/github`, `/healthz/live`, `/healthz/ready`, `/metrics`,
`GET /badge/{owner}/{repo}.svg` (the readiness badge of a public repository).

The webhook handler answers within milliseconds: it checks the size and the signature, parses
the JSON, stores the delivery (the store is what makes a redelivery a no-op) and hands its id to
the queue. It never waits on GitHub or on analysis.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__, tracing
from app.github.events import MalformedDelivery, parse_stored
from app.jobs import analysis_pool, redelivery, supersede
from app.jobs.backends import github_factory, make_processor, make_queue, make_redeliverer
from app.jobs.handlers import SUPPORTED_EVENTS
from app.jobs.periodic import repeating
from app.jobs.queue import job_lock
from app.logs import Throttle
from app.metrics import Metrics
from app.render.badge import badge_svg
from app.settings import Settings
from app.store.db import make_engine, make_sessions
from app.store.migrate import at_head
from app.store.models import Delivery
from app.store.score_history import public_badge
from app.web.hardening import harden
from app.web.intake import RETRY_AFTER_SECONDS, BodyBudget, IntakeLimits, Refused, signed_body
from app.web.request_metrics import RequestTiming

log = structlog.get_logger()
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_REPO_PART = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Outage:
    """Says once when deliveries cannot be stored, and once when they can again."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            log.error("database unavailable: deliveries answered 503", error=type(exc).__name__)

    def recovered(self) -> None:
        if self.down:
            self.down = False
            log.info("database available again: deliveries accepted")


def create_app(settings: Settings, engine: AsyncEngine | None = None) -> FastAPI:
    engine = engine or make_engine(settings.database_url)
    tracing.instrument_engine(engine)
    sessions = make_sessions(engine)
    metrics = Metrics()
    github = github_factory(settings, sessions)
    queue = make_queue(settings, sessions, make_processor(settings, github, metrics))
    # with the procrastinate queue, the workers run it (a periodic task)
    redeliver = make_redeliverer(settings, sessions) if settings.queue == "inline" else None
    analysis_pool.configure(analysis_pool.budget_of(settings), settings.inline_concurrency)
    secrets = settings.webhook_secrets()
    limits = IntakeLimits(settings.max_webhook_bytes, settings.webhook_read_timeout)
    budget = BodyBudget(settings.webhook_buffer_bytes)
    outage = _Outage()
    refusals = Throttle(10.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await queue.open()
        log.info("service started", version=__version__, queue=settings.queue)
        resumed = await queue.resume()
        if resumed:
            log.info("resumed unfinished deliveries", count=resumed)
        async with repeating(redelivery.EVERY, redeliver, "redeliver-missed"):
            yield
        await queue.drain()  # SIGTERM: let running jobs finish before the process exits
        await queue.close()
        analysis_pool.close_all()
        await engine.dispose()
        log.info("service stopped")
        tracing.shutdown()

    # a webhook receiver, not a public API: no schema or documentation pages to serve
    app = FastAPI(
        title="stopship", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None
    )
    harden(app)
    app.add_middleware(RequestTiming, histogram=metrics.request_seconds)
    tracing.instrument_app(app)
    app.state.queue = queue
    app.state.metrics = metrics
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.github = github
    app.state.body_budget = budget

    @app.post("/webhooks/github")
    async def github_webhook(request: Request) -> Response:
        event = request.headers.get("x-github-event", "")
        # a metric label is never a value a sender chooses (unsigned requests included): the
        # events handled, else "other"
        label = event if event in SUPPORTED_EVENTS else "other"
        try:
            async with signed_body(request, secrets, limits, budget) as body:
                delivery_id = request.headers.get("x-github-delivery", "")
                return await store_and_queue(event, delivery_id, body)
        except Refused as refused:
            metrics.deliveries.labels(label, refused.outcome).inc()
            suppressed = refusals.due(refused.outcome)
            if suppressed is not None:  # at most one line per outcome per 10 s
                log.warning(
                    "webhook refused",
                    outcome=refused.outcome,
                    status=refused.status,
                    gh_event=label,
                    suppressed=suppressed,
                )
            return JSONResponse(
                {"error": refused.message}, status_code=refused.status, headers=refused.headers
            )

    async def store_and_queue(event: str, delivery_id: str, body: bytearray) -> Response:
        """A signed delivery: parsed, stored (the store is what makes a redelivery a no-op)
        and queued."""
        if not event or not _DELIVERY_ID.match(delivery_id):
            return _error(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        if event not in SUPPORTED_EVENTS:
            log.debug("event ignored", delivery=delivery_id, gh_event=event)
            metrics.deliveries.labels("other", "ignored").inc()
            return Response(status_code=204)
        try:
            text = body.decode("utf-8")
            parsed = parse_stored(event, text)  # parsed once: the lock and the job read this
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8 JSON")
        except MalformedDelivery as exc:
            metrics.deliveries.labels(event, "malformed").inc()
            return _error(400, f"malformed payload: {str(exc)[:300]}")
        repository = parsed.repository.full_name if parsed.repository else None
        installation = parsed.installation.id if parsed.installation else None
        try:
            async with sessions() as session:
                session.add(
                    Delivery(
                        id=delivery_id,
                        event=event,
                        action=parsed.action[:64] if parsed.action else None,
                        installation_id=installation,
                        repository=repository,
                        payload=text,
                        status="accepted",
                    )
                )
                # the newest delivery per branch / pull request, for superseding (same
                # transaction)
                await supersede.record(session, delivery_id, parsed)
                try:
                    await session.commit()
                except IntegrityError:
                    metrics.deliveries.labels(event, "duplicate").inc()
                    return JSONResponse({"status": "duplicate", "delivery": delivery_id})
        except (DBAPIError, OSError, TimeoutError) as exc:
            # not stored, so not accepted: GitHub is told to come back (and the delivery can
            # be redelivered); one log line per outage, not one per request
            outage.failed(exc)
            metrics.deliveries.labels(event, "unavailable").inc()
            return JSONResponse(
                {"error": "the database is unavailable; deliver again later"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        outage.recovered()
        try:
            await queue.submit(delivery_id, job_lock(delivery_id, parsed))
        except Exception:  # stored is enough: recovery queues it later
            log.exception("delivery stored but not queued", delivery_id=delivery_id)
        metrics.deliveries.labels(event, "accepted").inc()
        log.info("delivery accepted", delivery=delivery_id, gh_event=event, repo=repository)
        return JSONResponse({"status": "accepted", "delivery": delivery_id}, status_code=202)

    @app.get("/badge/{owner}/{repo}.svg")
    async def badge(owner: str, repo: str) -> Response:
        """The default branch's grade and score; 404 alike for an unknown, private or never
        judged repository (a private repository's existence is never revealed)."""
        found = None
        if _REPO_PART.match(owner) and _REPO_PART.match(repo):
            async with sessions() as session:
                found = await public_badge(session, f"{owner}/{repo}")
        if found is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        # cached BADGE_MAX_AGE seconds (app/web/hardening.py: PublicCaching)
        return Response(badge_svg(found.grade, found.score), media_type="image/svg+xml")

    @app.get("/healthz/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/healthz/ready")
    async def ready() -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            migrated = await at_head(engine)
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, 503)
        if not migrated:
            return JSONResponse({"status": "unavailable", "database": "not migrated"}, 503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        try:
            metrics.queue_depth.set(await queue.depth())
        except Exception:  # metrics still answer while the queue is away
            log.warning("queue depth unavailable", exc_info=True)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
