"""OpenTelemetry tracing, off unless an OTLP endpoint is configured
(`STOPSHIP_OTEL_EXPORTER_OTLP_ENDPOINT`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`): spans of
HTTP requests (FastAPI), of each job, of GitHub calls (httpx) and of SQL statements (SQLAlchemy's
cursor events: the statement's text, never its parameters),
exported over OTLP/HTTP. The libraries are the `otel` extra and are imported only when tracing
is on; without them, an endpoint is reported once and ignored."""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import structlog

from app import __version__

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger()

ENDPOINT_VARIABLES = ("STOPSHIP_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
OTEL_MODULES = (
    "opentelemetry.sdk",
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.instrumentation.fastapi",
    "opentelemetry.instrumentation.httpx",
)
# probes and scrapes are not worth a trace each
EXCLUDED_URLS = "healthz,metrics"

_enabled = False


def endpoint(environ: Mapping[str, str] = os.environ) -> str | None:
    for name in ENDPOINT_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _installed() -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in OTEL_MODULES)
    except ModuleNotFoundError:
        return False


def start_tracing(url: str | None, exporter: Any = None) -> bool:
    """Trace this process when `url` (an OTLP/HTTP endpoint) or `exporter` (tests: an in-memory
    one) is given; call before engines and clients are made. Whether tracing is on."""
    global _enabled
    if _enabled or (url is None and exporter is None):
        return _enabled
    if not _installed():
        log.warning("tracing not started: pip install 'stopship[otel]'", endpoint_set=True)
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": "stopship", "service.version": __version__})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces(url))))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _enabled = True
    log.info("tracing started", exporter="otlp" if exporter is None else "given")
    return True


def _traces(url: str | None) -> str | None:
    """The traces URL of an OTLP/HTTP base endpoint, as the OTLP exporter spec says."""
    if url is None or url.rstrip("/").endswith("/v1/traces"):
        return url
    return url.rstrip("/") + "/v1/traces"


def instrument_app(app: FastAPI) -> None:
    """A span for each request to `app` (none for probes and scrapes), when tracing is on."""
    if not _enabled:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
    )


_SPAN = "_stopship_span"


def instrument_engine(engine: AsyncEngine) -> None:
    """A client span for each SQL statement `engine` runs, when tracing is on. (OpenTelemetry's
    SQLAlchemy instrumentation declares no support for SQLAlchemy 2.1, and its engine-creation
    hook misses engines made through a `create_async_engine` imported before it.)"""
    if not _enabled:
        return
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from sqlalchemy import event

    tracer = trace.get_tracer("stopship.sql")
    system = engine.dialect.name

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        context = _args[-2]  # (parameters, context, executemany)
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={"db.system": system, "db.statement": statement[:2000]},
        )
        setattr(context, _SPAN, span)

    def after(_conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        span = getattr(_args[-2], _SPAN, None)
        if span is not None:
            span.end()

    def failed(context: Any) -> None:
        span = getattr(context.execution_context, _SPAN, None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(context.original_exception).__name__))
            span.end()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)


@contextlib.contextmanager
def job_span(name: str, **attributes: str) -> Iterator[None]:
    """A span around one job (the GitHub calls and SQL it makes are its children)."""
    if not _enabled:
        yield
        return
    from opentelemetry import trace

    with trace.get_tracer("stopship").start_as_current_span(name, attributes=attributes):
        yield


def shutdown() -> None:
    """Export the spans still buffered (at a graceful stop)."""
    if not _enabled:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "shutdown", None)
    if callable(flush):
        flush()
