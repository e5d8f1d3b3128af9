"""Per-file facts computed once: whole-file conditions of ast-grep rules decided against the
root (not once per candidate), line numbers from tables built once. The results are the ones the
per-candidate forms gave; the speed is benchmarks/hostile.py's (tests/benchmarks)."""

from __future__ import annotations

from typing import Any

import pytest
from ast_grep_py import SgRoot

from app.engine.context import FileContext
from app.engine.detectors.python_outbound import unbounded_calls
from app.engine.detectors.sql_dialect import read_sql
from app.engine.detectors.sql_schema import statement_line
from app.engine.line_counter import LineCounter
from app.engine.sg_file_rules import rule_for_file
from app.engine.suppressions import parse_suppressions

NO_TIMEOUT_IN_FILE: dict[str, Any] = {
    "kind": "call_expression",
    "all": [
        {"has": {"field": "function", "regex": "^fetch$"}},
        {
            "inside": {
                "stopBy": "end",
                "kind": "program",
                "not": {"has": {"stopBy": "end", "regex": "^setTimeout"}},
            }
        },
    ],
}


def lines(root: Any, rule: Any) -> list[int]:
    return [n.range().start.line for n in root.find_all({"rule": rule})]


@pytest.mark.parametrize(
    "source",
    [
        'fetch("/a");\nfetch("/b");\n',
        'fetch("/a");\nsetTimeout(f, 5);\nfetch("/b");\n',
        "const x = 1;\n",
    ],
)
def test_a_whole_file_condition_gives_what_ast_grep_gives_per_candidate(source: str) -> None:
    root = SgRoot(source, "javascript").root()
    simplified = rule_for_file(NO_TIMEOUT_IN_FILE, root)
    expected = lines(root, NO_TIMEOUT_IN_FILE)
    assert (lines(root, simplified) if simplified is not None else []) == expected


def test_a_file_that_settles_the_condition_runs_no_query() -> None:
    root = SgRoot('setTimeout(f, 5);\nfetch("/b");\n', "javascript").root()
    assert rule_for_file(NO_TIMEOUT_IN_FILE, root) is None
    holds = SgRoot('fetch("/b");\n', "javascript").root()
    assert rule_for_file(NO_TIMEOUT_IN_FILE, holds) == {
        "kind": "call_expression",
        "all": [{"has": {"field": "function", "regex": "^fetch$"}}],
    }


def test_a_parent_clause_keeps_that_the_parent_is_the_root() -> None:
    rule = {
        "kind": "expression_statement",
        "not": {"inside": {"kind": "program", "has": {"kind": "hash_bang_line"}}},
    }
    source = "console.log(1);\nfunction f() { console.log(2); }\n"
    root = SgRoot(source, "javascript").root()
    simplified = rule_for_file(rule, root)
    assert simplified == {"kind": "expression_statement"}
    script = SgRoot("#!/usr/bin/env node\n" + source, "javascript").root()
    simplified = rule_for_file(rule, script)
    assert simplified == {"kind": "expression_statement", "not": {"inside": {"kind": "program"}}}
    assert lines(script, simplified) == lines(script, rule) == [2]


def test_sql_statement_lines_count_bytes_as_pglast_does() -> None:
    text = "-- café\nCREATE TABLE a (id int);\n\n  CREATE INDEX b ON a (id);\nDROP TABLE a;"
    ctx = FileContext("db/migrations/0001_a.sql", text.encode())
    source = read_sql(ctx.path, ctx.text)
    assert source.statements is not None
    assert [statement_line(ctx, raw) for raw in source.statements] == [2, 4, 5]


def test_python_that_ast_rejects_still_gives_its_requests_calls() -> None:
    text = (
        "print 'py2'\n"
        "requests.get(url)\n"
        "requests.post(url, timeout=5)\n"
        "requests.put(url, **options)\n"
        "requests.get(requests.get(url), timeout=3)\n"
    )
    found = unbounded_calls(FileContext("app/legacy.py", text.encode()))
    assert found.problem is not None
    # the calls whose arguments up to the first `)` name no timeout (both nested gets)
    assert [(c.line, c.text) for c in found.calls] == [
        (2, "requests.get("),
        (5, "requests.get("),
        (5, "requests.get("),
    ]


def test_line_counter_goes_on_and_starts_again_when_asked_backwards() -> None:
    text = "a\nb\nc\nd\n"
    lines = LineCounter(text)
    assert [lines.line_of(o) for o in (0, 2, 6, 2, 7)] == [1, 2, 4, 2, 4]


def test_suppressions_keep_their_lines() -> None:
    text = "x = 1\n# stopship: ignore[ERR002] reviewed\ny = 2  # stopship: ignore[SEC001] fixture\n"
    assert [(s.line, s.rules) for s in parse_suppressions(text)] == [
        (2, ("ERR002",)),
        (3, ("SEC001",)),
    ]
