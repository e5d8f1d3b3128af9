"""Other tools' suppressions of the same class are accepted risk naming the tool: bandit, ruff,
semgrep, ESLint, golangci-lint, detect-secrets, squawk, hadolint. Bare style suppressions silence
nothing, and a pull request cannot silence its own stop-ship with them."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import StopshipConfig
from app.engine.foreign_suppressions import parse_foreign_suppressions
from app.engine.model import Finding, Suppression
from app.engine.report import Report
from app.engine.ruleset import Ruleset

QUERY = 'def purge(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")  {comment}\n'


def audit(analyzer: Analyzer, ruleset: Ruleset, files: dict[str, str], policy=None) -> Report:  # type: ignore[no-untyped-def]
    results = {p: analyzer.analyze(p, t.encode()) for p, t in files.items()}
    return build_report(
        ruleset,
        StopshipConfig(),
        AuditInput("r", sorted(results), results, suppression_policy=policy),
    )


@pytest.mark.parametrize(
    ("comment", "tool"),
    [
        ("# nosec B608", "bandit"),
        ("# nosec", "bandit"),
        ("# noqa: S608", "ruff"),
        ("# nosemgrep: python.lang.security.audit.formatted-sql-query", "semgrep"),
        ("# nosemgrep", "semgrep"),
    ],
)
def test_a_line_another_tool_silenced_for_sql_is_accepted_risk_naming_it(
    analyzer: Analyzer, ruleset: Ruleset, comment: str, tool: str
) -> None:
    report = audit(analyzer, ruleset, {"app/admin.py": QUERY.replace("{comment}", comment)})
    assert not [f for f in report.findings if f.rule == "SEC002"]
    [accepted] = [f for f in report.suppressed if f.rule == "SEC002"]
    assert accepted.suppressed_by == f"accepted with {tool}: `{comment}`"


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa",  # bare noqa: mostly line length, not a security review
        "# noqa: E501",
        "# nosec B105",  # another class (a password), not SQL
        "# nosemgrep: python.requests.best-practice.use-timeout",
    ],
)
def test_other_classes_and_style_suppressions_silence_nothing(
    analyzer: Analyzer, ruleset: Ruleset, comment: str
) -> None:
    report = audit(analyzer, ruleset, {"app/admin.py": QUERY.replace("{comment}", comment)})
    assert [f.rule for f in report.findings if f.rule == "SEC002"] == ["SEC002"]


def test_each_tools_comment_maps_to_its_class() -> None:
    text = "\n".join(
        [
            "x = 1  # nosec B105",
            "exec(code)  # noqa: S102",
            "// eslint-disable-next-line security/detect-child-process",
            "// eslint-disable-line no-empty",
            "db.Query(q) //nolint:gosec",
            'token = "x"  # pragma: allowlist secret',
            "CREATE INDEX i ON t (c); -- squawk-ignore require-concurrent-index-creation",
            "# hadolint ignore=DL3002",
            "-- nosemgrep: add-index-concurrently",
            "// eslint-disable-line",
        ]
    )
    got = {(s.line, s.tool): s.rules for s in parse_foreign_suppressions(text)}
    assert got[(1, "bandit")] == ("SEC001",)
    assert got[(2, "ruff")] == ("SEC003",)
    assert got[(3, "ESLint")] == ("SEC004",)
    assert got[(4, "ESLint")] == ("ERR001",)
    assert "SEC002" in got[(5, "golangci-lint")]
    assert got[(6, "detect-secrets")] == ("SEC001",)
    assert got[(7, "squawk")] == ("DEP005",)
    assert got[(8, "hadolint")] == ("CTR001",)
    assert got[(9, "semgrep")] == ("DEP005",)
    assert (10, "ESLint") not in got  # bare: style, not a review


def test_the_line_above_counts_as_for_our_own_suppressions(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    migration = (
        "SET lock_timeout = '5s';\n"
        "-- nosemgrep: add-index-concurrently\n"
        "CREATE INDEX orders_status_idx ON orders (status);\n"
    )
    report = audit(analyzer, ruleset, {"db/migrations/0002_idx.sql": migration})
    assert not [f for f in report.findings if f.rule == "DEP005"]
    assert [f.suppressed_by for f in report.suppressed if f.rule == "DEP005"] == [
        "accepted with semgrep: `-- nosemgrep: add-index-concurrently`"
    ]


def test_a_pull_request_cannot_silence_its_own_stop_ship_with_another_tools_comment(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    """The trust rule of `stopship: ignore` (the App's policy for a pull request into a release
    branch: honoured only where the base already had it) applies as it is."""

    def base_had_none(path: str, suppression: Suppression, finding: Finding) -> bool:
        return not finding.stop_ship

    files = {"app/admin.py": QUERY.replace("{comment}", "# nosec B608")}
    report = audit(analyzer, ruleset, files, policy=base_had_none)
    assert [f.rule for f in report.stop_ship] == ["SEC002"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app/q.py", "x = 1  # nosec B608\n"),
        ("app/q.py", "x = 1  # noqa: S608\n"),
        ("app/q.py", "x = 1  # nosemgrep\n"),
        ("web/q.js", "eval(x) // eslint-disable-line no-eval\n"),
        ("cmd/q.go", "x := 1 //nolint:gosec\n"),
        ("app/q.py", 'KEY = "x"  # pragma: allowlist secret\n'),
        ("app/q.py", 'KEY = "x"  # gitleaks:allow\n'),
        ("db/1.sql", "-- squawk-ignore ban-drop-column\nALTER TABLE t DROP COLUMN c;\n"),
        ("Dockerfile", "# hadolint ignore=DL3002\nUSER root\n"),
    ],
)
def test_a_screened_file_keeps_every_tools_suppression(
    analyzer: Analyzer, path: str, text: str
) -> None:
    """The screen skips the search for other tools' comments only where none can be."""
    found = analyzer.analyze(path, text.encode()).suppressions
    assert found and found == parse_foreign_suppressions(text)
