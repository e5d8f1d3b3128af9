"""`/metrics` after real work: analyses timed, GitHub calls counted by status, file-result cache
hits and misses counted (through the real app, the inline queue and the fake GitHub)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.app.fake_github import FakeGitHub
from tests.app.test_push_analysis import (
    client,
    fake,
    push,
    push_payload,
    repo,
)
from tests.gitrepo import git

__all__ = ["client", "fake", "repo"]


async def samples(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await http.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_analyses_github_calls_and_cache_lookups_are_counted(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
) -> None:
    fake.failures["GET /git/trees/"] = [500]  # answered once with a 500, then retried
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "m-1")
    (repo / "app" / "main.py").write_text(
        "import structlog\nlog = structlog.get_logger(__name__)\n"
    )
    git(repo, "commit", "-qam", "change one file")
    await push(client, push_payload(git(repo, "rev-parse", "HEAD")), "m-2")

    seen = await samples(client)
    assert seen[("stopship_analysis_duration_seconds_count", ())] == 2
    assert seen[("stopship_analysis_duration_seconds_sum", ())] > 0
    assert seen[("stopship_github_api_calls_total", (("status", "500"),))] == 1
    ok = seen[("stopship_github_api_calls_total", (("status", "200"),))]
    assert ok >= len(fake.calls("GET", "/git/")) - 1  # every answered tree and blob request
    # the first push analyses its 3 files, the second 1 (the other 2 come from the cache)
    assert seen[("stopship_file_cache_lookups_total", (("outcome", "miss"),))] == 4
    assert seen[("stopship_file_cache_lookups_total", (("outcome", "hit"),))] == 2


def test_a_worker_serves_what_its_jobs_record() -> None:
    from app import metrics as job_metrics
    from app.jobs.worker import serve_metrics

    registry = job_metrics.Metrics()
    server, port = serve_metrics(registry, "127.0.0.1", 0)
    try:
        with job_metrics.recording(registry):
            job_metrics.commit_judged(1.5, analysed=3, cached=7)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    assert "stopship_analysis_duration_seconds_count 1.0" in text
    assert 'stopship_file_cache_lookups_total{outcome="hit"} 7.0' in text
    job_metrics.commit_judged(9.0, analysed=1, cached=1)  # outside a job: recorded nowhere
    [total] = [
        s.value
        for s in registry.analysis_seconds.collect()[0].samples
        if s.name == "stopship_analysis_duration_seconds_sum"
    ]
    assert total == 1.5  # unchanged
