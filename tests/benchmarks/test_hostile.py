"""benchmarks/hostile.py in CI: every hostile shape (thousands of requests on one minified line,
tens of thousands of SQL statements, deep nesting, one huge YAML or Dockerfile line) is analysed
in a time of the order of a normal file of the same size, measured side by side in one run (a
quadratic rule is over a hundred times slower at this size)."""

from __future__ import annotations

import pytest

from tests.benchmarks.test_benchmarks import load


def test_hostile_files_cost_what_normal_files_of_their_size_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = load("hostile")
    code = hostile.main(["--kb", "128"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count(" KB ") == len(hostile.SHAPES)
