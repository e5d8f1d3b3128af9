"""Scoring arithmetic of DESIGN.md: deductions, caps, weights, rounding, grades and verdicts."""

from __future__ import annotations

import pytest

from app.engine.config import parse_config
from app.engine.model import Finding, Severity
from app.engine.scoring import (
    category_scores,
    deductions_by_category,
    grade_for,
    grade_meaning,
    groups_of,
    projected_score,
    quick_wins,
    score_of,
    total_score,
    verdict_for,
    wins_within,
)


def finding(
    rule: str = "ERR002",
    category: str = "error-handling",
    severity: Severity = Severity.HIGH,
    points: int = 6,
    max_points: int | None = 12,
    stop_ship: bool = False,
    n: int = 0,
) -> Finding:
    return Finding(
        fingerprint=f"{rule}{n:08d}",
        rule=rule,
        name=rule.lower(),
        category=category,
        severity=severity,
        stop_ship=stop_ship,
        path="app/x.py",
        line=n + 1,
        message="m",
        fix="f",
        points=points,
        max_points=max_points,
    )


def test_deductions_multiply_per_instance_and_stop_at_the_cap() -> None:
    assert deductions_by_category([finding(n=0)]) == {"error-handling": 6}
    assert deductions_by_category([finding(n=i) for i in range(2)]) == {"error-handling": 12}
    assert deductions_by_category([finding(n=i) for i in range(5)]) == {"error-handling": 12}
    uncapped = [finding(max_points=None, n=i) for i in range(5)]
    assert deductions_by_category(uncapped) == {"error-handling": 30}


def test_category_score_never_goes_below_zero() -> None:
    many = [
        finding(rule=f"SEC{i:03d}", category="security", points=15, max_points=None, n=i)
        for i in range(10)
    ]
    security = next(c for c in category_scores(many) if c.id == "security")
    assert security.score == 0
    assert security.deductions == 150


def test_total_is_the_weighted_sum_rounded() -> None:
    assert total_score(category_scores([])) == 100
    # security 85 (weight 25) -> 100 - 15 * 0.25 = 96.25 -> 96
    assert (
        total_score(category_scores([finding("SEC001", "security", points=15, max_points=None)]))
        == 96
    )
    # database 98 (weight 10) -> 99.8 -> 100; with container 97 too: 99.5 -> 100 (half up)
    assert total_score(category_scores([finding("DB004", "database", points=2)])) == 100
    both = [finding("DB004", "database", points=2), finding("CTR002", "container", points=3)]
    assert total_score(category_scores(both)) == 100
    # observability 88 (20) -> 97.6 -> 98
    assert total_score(category_scores([finding("OBS001", "observability", points=12)])) == 98


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "A"),
        (90, "A"),
        (89, "B"),
        (80, "B"),
        (79, "C"),
        (70, "C"),
        (69, "D"),
        (50, "D"),
        (49, "F"),
        (0, "F"),
    ],
)
def test_grade_boundaries(score: int, grade: str) -> None:
    assert grade_for(score) == grade


def _verdict(findings: list[Finding], config: str = "launch: {stage: beta}") -> str:
    cfg = parse_config(config.encode())
    categories = category_scores(findings)
    return verdict_for(findings, total_score(categories), categories, cfg)


def test_verdicts() -> None:
    assert _verdict([]) == "READY"
    low = finding("DB004", "database", Severity.LOW, 2)
    assert _verdict([low]) == "READY"
    assert _verdict([finding()]) == "READY WITH CONDITIONS"  # a high finding remains
    medium_security = finding("SEC006", "security", Severity.MEDIUM, points=12, max_points=None)
    assert _verdict([medium_security]) == "READY WITH CONDITIONS"  # security 88 < 90
    stop = finding("SEC002", "security", Severity.CRITICAL, 15, stop_ship=True)
    assert _verdict([stop]) == "NOT READY"


def test_a_score_under_the_profile_minimum_is_not_ready() -> None:
    # beta: minimum 70. Three categories at 32/100 give 25 + 6.4 + 6.4 + 4.8 + 10 + 10 = 62.6.
    findings = [
        finding(f"X{c[:2].upper()}{i:03d}", c, Severity.MEDIUM, 34, None, n=i)
        for i, c in enumerate(["error-handling", "observability", "deployment"] * 2)
    ]
    categories = category_scores(findings)
    assert total_score(categories) == 63
    assert _verdict(findings) == "NOT READY"
    assert _verdict(findings, "launch: {stage: internal}") == "READY"  # internal: minimum 50


def test_quick_wins_report_the_points_each_fix_adds() -> None:
    findings = [
        finding("OBS001", "observability", points=12, max_points=None),
        finding("DB004", "database", Severity.LOW, 2, None),
    ]
    wins = {w.rule: w.points for w in quick_wins(findings)}
    # without OBS001: observability 100 -> +2.4 on the total (97.4 -> 99.8, rounded 97 -> 100)
    assert wins["OBS001"] == 3
    assert "DB004" not in wins or wins["DB004"] >= 1


def test_quick_wins_are_the_fixes_under_five_minutes_best_gain_per_minute_first() -> None:
    findings = [
        finding("OBS001", "observability", points=12, max_points=None),
        finding("ERR002", points=6, max_points=None, n=1),
        finding("ERR002", points=6, max_points=None, n=2),
        finding("SEC017", "security", points=4, max_points=None),
    ]
    efforts = {"OBS001": 120, "ERR002": 2, "SEC017": 3}
    wins = quick_wins(findings, efforts=efforts)
    # OBS001 adds the most points but takes two hours: not a quick win
    assert [(w.rule, w.effort) for w in wins] == [("ERR002", 4), ("SEC017", 3)]
    assert all(w.points >= 1 for w in wins)


@pytest.mark.parametrize(
    ("grade", "meaning"),
    [("A", "Production-ready. Ship it."), ("F", "Not ready: critical problems; do not deploy.")],
)
def test_every_grade_has_its_meaning(grade: str, meaning: str) -> None:
    assert grade_meaning(grade) == meaning
    assert all(grade_meaning(g) for g in "ABCDF")


def test_quick_wins_of_a_limited_listing_fix_only_the_listed_findings() -> None:
    # ERR002: 6 points each, capped at 12: four open, one listed. Fixing the listed one leaves
    # three (18 -> still the cap of 12): no gain, so no quick win; the others gain.
    capped = [finding(n=i) for i in range(4)]
    # OBS: 5 points each, no cap: three open, one listed -> fixing it gains 5 x 20% = 1 point.
    plain = [
        finding("OBS003", "observability", Severity.MEDIUM, 5, None, n=10 + i) for i in range(3)
    ]
    stop = finding("SEC002", "security", Severity.CRITICAL, 20, None, stop_ship=True, n=20)
    everything = capped + plain + [stop]
    listed = [capped[0], plain[0], stop]
    wins, projected = wins_within(groups_of(everything), listed)
    assert [(w.rule, w.points, w.count) for w in wins] == [("SEC002", 5, 1), ("OBS003", 1, 1)]
    # the projection fixes the listed stop-ship and the listed OBS003 finding, nothing else
    assert projected == score_of(capped + plain[1:])
    # listing everything, it is the full report's arithmetic
    full_wins, full_projected = wins_within(groups_of(everything), everything)
    assert full_wins == quick_wins(everything)
    assert full_projected == projected_score(everything, quick_wins(everything))
