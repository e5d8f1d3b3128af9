"""OpenTelemetry tracing: off unless an OTLP endpoint is configured; when on, a signed push
leaves a request span, a job span in the same trace, and under the job the GitHub calls and the
SQL statements it made (tests/app/tracing_probe.py runs it in a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app import tracing

ROOT = Path(__file__).resolve().parents[2]


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing.endpoint({}) is None
    assert tracing.endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}) is None
    assert not tracing.start_tracing(None)
    with tracing.job_span("nothing"):  # a no-op, no provider set up
        pass


def test_our_endpoint_variable_wins_over_the_standard_one() -> None:
    both = {
        "STOPSHIP_OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9999",
    }
    assert tracing.endpoint(both) == "http://127.0.0.1:4318"
    assert tracing.endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9999"}) == (
        "http://127.0.0.1:9999"
    )


def test_requests_jobs_github_calls_and_sql_are_traced(tmp_path: Path) -> None:
    out = tmp_path / "spans.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tests.app.tracing_probe", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    spans = [json.loads(line) for line in out.read_text().splitlines()]

    servers = [s for s in spans if s["kind"] == "SERVER"]
    assert [s["name"] for s in servers] == ["POST /webhooks/github"]  # probes are not traced
    job = next(s for s in spans if s["name"] == "process delivery")
    assert job["attributes"] == {"delivery_id": "trace-1"}
    assert job["trace"] == servers[0]["trace"]
    under_job = [s for s in spans if s["parent"] == job["span"]]
    github = [s for s in under_job if "http.url" in s["attributes"]]
    assert any(
        s["name"] == "PATCH" and "/check-runs/" in s["attributes"]["http.url"] for s in github
    )
    sql = [s for s in under_job if s["attributes"].get("db.system") == "sqlite"]
    assert {"SELECT", "INSERT", "UPDATE"} <= {s["name"] for s in sql}
    assert all("?" in s["attributes"]["db.statement"] or s["name"] != "INSERT" for s in sql)
    assert "probe-secret" not in out.read_text()
