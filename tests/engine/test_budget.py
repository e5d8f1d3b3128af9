"""Files analysed in child processes within a time and memory budget (app/engine/budget.py): a
file over budget is a parse problem that says so, and the next file is analysed as usual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.analyze import Analyzer
from app.engine.budget import AnalysisProcesses, AnalysisStopped, Budget, over_budget
from app.engine.ruleset import Ruleset, load_ruleset

# Quadratic on purpose: each statement looks at every statement before it.
SLOW_RULES = """\
rules:
  - id: SLW001
    name: slow-rule
    category: observability
    severity: low
    points: 1
    effort: 1
    impact: nothing
    languages: [javascript]
    matcher:
      ast_grep:
        rules:
          javascript:
            kind: expression_statement
            follows: {stopBy: end, kind: expression_statement, regex: '^never;$'}
    message: m
    why: w
    fix: f
    examples: {bad: {files: {a.js: "x;"}}, good: {files: {a.js: "y;"}}}
"""
# hours of work for SLW001 (5e9 sibling visits), a millisecond of parsing
HOSTILE = b"a;\n" * 100_000


def slow_ruleset(directory: Path) -> Ruleset:
    directory.mkdir(exist_ok=True)
    (directory / "slow.yml").write_text(SLOW_RULES)
    return load_ruleset(directory)


@pytest.fixture
def processes(ruleset: Ruleset) -> Iterator[AnalysisProcesses]:
    pool = AnalysisProcesses(ruleset, Budget(seconds=60), processes=1)
    yield pool
    pool.close()


def test_a_file_is_analysed_in_a_child_as_in_this_process(
    processes: AnalysisProcesses, analyzer: Analyzer
) -> None:
    source = b'import requests\n\ndef rates():\n    return requests.get("https://x.example")\n'
    result = processes.analyze("app/rates.py", source)
    assert result == analyzer.analyze("app/rates.py", source)
    assert [h.line for h in result.hits] == [4]


def test_a_file_over_its_time_budget_is_a_parse_problem_and_the_next_one_is_analysed(
    tmp_path: Path,
) -> None:
    pool = AnalysisProcesses(slow_ruleset(tmp_path / "rules"), Budget(seconds=1), processes=1)
    try:
        result = pool.analyze("src/app.js", HOSTILE)
        assert over_budget(result)
        assert [(p.parser, p.message) for p in result.problems] == [
            ("budget", "analysis took over 1 s: not analysed")
        ]
        assert result.hits == []
        after = pool.analyze("src/app.js", b"x;\nnever;\ny;\n")
        assert [h.line for h in after.hits] == [3]
        assert not over_budget(after)
    finally:
        pool.close()


def test_a_file_over_its_memory_budget_is_a_parse_problem(tmp_path: Path) -> None:
    # a deep JSON-like literal: tree-sitter's nodes need far more than the budget leaves
    pool = AnalysisProcesses(
        slow_ruleset(tmp_path / "rules"), Budget(seconds=60, memory_mb=400), processes=1
    )
    try:
        result = pool.analyze("src/app.js", b"x = [" + b"[1, 2, 3], " * 3_000_000 + b"];\n")
        assert over_budget(result), result.problems
        assert "400 MiB" in result.problems[0].message
        assert pool.analyze("src/app.js", b"x;\nnever;\ny;\n").hits != []
    finally:
        pool.close()


def test_closing_stops_an_analysis_under_way(tmp_path: Path) -> None:
    import threading

    pool = AnalysisProcesses(slow_ruleset(tmp_path / "rules"), Budget(seconds=600), processes=1)
    outcome: list[BaseException] = []

    def analyse() -> None:
        try:
            pool.analyze("src/app.js", HOSTILE)
        except AnalysisStopped as exc:
            outcome.append(exc)

    pool.analyze("src/app.js", b"x;\n")  # started: the next file is under way at once
    thread = threading.Thread(target=analyse)
    thread.start()
    pool.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(outcome) == 1
    with pytest.raises(AnalysisStopped):
        pool.analyze("src/app.js", b"x;\n")
