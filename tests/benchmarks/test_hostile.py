"""benchmarks/hostile.py in CI: every hostile shape (thousands of requests on one minified line,
tens of thousands of SQL statements, deep nesting, one huge YAML or Dockerfile line) is analysed
in a time of the order of a normal file of the same size, measured side by side in one run (a
quadratic rule is over a hundred times slower at this size). In a process of its own: the test
process's heap (every earlier test's objects) makes its garbage collections slow and uneven."""

from __future__ import annotations

import subprocess
import sys

from tests.benchmarks.test_benchmarks import BENCHMARKS, load


def test_hostile_files_cost_what_normal_files_of_their_size_cost() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "hostile.py"), "--kb", "128"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(" KB ") == len(load("hostile").SHAPES)
