"""The check summary's lines about the repository beyond its tree: the score trend, the branch
enforcement sentence, and the readiness badge's SVG."""

from __future__ import annotations

import pytest

from app.github.branch_rules import BranchEnforcement, _contexts_of_rules, describe
from app.render.badge import badge_svg
from app.render.markdown import trend_line


class _Scores:
    def __init__(self, scores: tuple[int, ...]) -> None:
        self.score_history = scores


@pytest.mark.parametrize(
    ("scores", "line"),
    [
        ((), []),
        ((78,), []),
        ((64, 71, 78), ["64 → 71 → 78 over the last 3 pushes"]),
        ((64, 64, 71, 71, 78), ["64 → 71 → 78 over the last 5 pushes"]),
        ((80, 80), ["80, unchanged over the last 2 pushes"]),
        # only the last 8 changes: the pushes counted are those since the first one shown
        (tuple(range(50, 60)), ["52 → 53 → 54 → 55 → 56 → 57 → 58 → 59 over the last 8 pushes"]),
    ],
)
def test_trend_line(scores: tuple[int, ...], line: list[str]) -> None:
    assert trend_line(_Scores(scores)) == line  # type: ignore[arg-type]


def test_required_contexts_come_from_required_status_checks_rules_only() -> None:
    rules = [
        {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
        {"type": "required_status_checks", "parameters": {"required_status_checks": [
            {"context": "Production readiness"}, {"context": "ci", "integration_id": 1}]}},
        {"type": "required_status_checks"},  # no parameters: nothing required
        "not a rule",
    ]  # fmt: skip
    assert _contexts_of_rules(rules) == {"Production readiness", "ci"}  # type: ignore[arg-type]


def test_enforcement_sentences() -> None:
    assert "NOT blocked" in describe(BranchEnforcement("release/2.1", "not_required"))
    assert "`release/2.1`" in describe(BranchEnforcement("release/2.1", "not_required"))
    assert "Administration: read" in describe(BranchEnforcement("main", "unknown"))
    assert "required by a ruleset" in describe(BranchEnforcement("main", "required", "a ruleset"))


def test_the_badge_escapes_its_text() -> None:
    svg = badge_svg("A", 93, label='<script>"x"</script>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "A 93" in svg and "#4c1" in svg
