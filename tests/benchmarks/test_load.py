"""benchmarks/load.py runs end to end at a tiny rate: `stopship serve` on 127.0.0.1 with SQLite
and the inline queue, signed deliveries, every 202 a stored row, the CPU of each side counted."""

from __future__ import annotations

import json

import pytest

from tests.benchmarks.test_benchmarks import load


def test_the_load_benchmark_stores_every_accepted_delivery(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = load("load").main(["--database", "sqlite", "--rates", "10", "--seconds", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    figures = json.loads(out.strip().splitlines()[-1])
    [step] = figures["steps"]
    assert step["statuses"] == {"202": 10}
    assert step["accepted"] == step["stored"] == 10
    assert step["p50_ms"] > 0 and step["p99_ms"] >= step["p50_ms"]
    assert step["serve_cpu_ms"] > 0
    assert figures["lost"] == 0 and figures["server_errors"] == 0
