"""Score, grade, verdict, gates and quick wins, exactly as DESIGN.md defines them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from app.engine.config import StopshipConfig
from app.engine.model import CATEGORIES, Finding
from app.engine.report import CategoryScore, Gate, QuickWin

GRADES = ((90, "A"), (80, "B"), (70, "C"), (50, "D"), (0, "F"))
NOT_READY = "NOT READY"
CONDITIONS = "READY WITH CONDITIONS"
READY = "READY"
# What each grade tells a team, in the words of the production-readiness audits the scoring model
# follows.
GRADE_MEANINGS = {
    "A": "Production-ready. Ship it.",
    "B": "Nearly ready: fix the high-priority findings first or soon after launch.",
    "C": "Significant gaps: fix the high-priority findings before launch.",
    "D": "Not ready: major work is needed before real users depend on it.",
    "F": "Not ready: critical problems; do not deploy.",
}
# A quick win is a rule whose fix takes under this many minutes in one place.
QUICK_WIN_MINUTES = 5


def grade_meaning(grade: str) -> str:
    """The sentence that explains a grade (A: "Production-ready. Ship it.")."""
    return GRADE_MEANINGS.get(grade, "")


def grade_for(score: int) -> str:
    """A 90-100, B 80-89, C 70-79, D 50-69, F 0-49."""
    for floor, grade in GRADES:
        if score >= floor:
            return grade
    return "F"


# Scores depend on the open findings only through, per rule, how many there are and the rule's
# points, cap, category, name and fix (the same on each of its findings): a group is one finding
# standing for its rule and the count. Lists are grouped here; the App's incremental reports keep
# the counts themselves (app/engine/report_cache.py) and call the *_of functions.
Group = tuple[Finding, int]


def groups_of(findings: Iterable[Finding]) -> list[Group]:
    """Per rule (and category), its first finding and how many there are."""
    first: dict[tuple[str, str], Finding] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for f in findings:
        key = (f.category, f.rule)
        if key not in first:
            first[key] = f
        counts[key] += 1
    return [(f, counts[key]) for key, f in first.items()]


def _deducted(first: Finding, count: int) -> int:
    total = first.points * count
    return total if first.max_points is None else min(total, first.max_points)


def deductions_of(groups: Iterable[Group]) -> dict[str, int]:
    """Per category: for each rule, points x instances, capped at the rule's max_points."""
    out: dict[str, int] = defaultdict(int)
    for first, count in groups:
        out[first.category] += _deducted(first, count)
    return out


def deductions_by_category(findings: list[Finding]) -> dict[str, int]:
    """Per category: for each rule, points x instances, capped at the rule's max_points."""
    return deductions_of(groups_of(findings))


def category_scores_of(deductions: dict[str, int]) -> list[CategoryScore]:
    return [
        CategoryScore(
            c.id, c.name, c.weight, max(0, 100 - deductions.get(c.id, 0)), deductions.get(c.id, 0)
        )
        for c in CATEGORIES
    ]


def category_scores(findings: list[Finding]) -> list[CategoryScore]:
    return category_scores_of(deductions_by_category(findings))


def total_score(categories: list[CategoryScore]) -> int:
    """The weighted sum of category scores, rounded half up."""
    return int(sum(c.score * c.weight for c in categories) / 100 + 0.5)


def score_of(findings: list[Finding]) -> int:
    return total_score(category_scores(findings))


def verdict_for(
    findings: list[Finding], score: int, categories: list[CategoryScore], config: StopshipConfig
) -> str:
    """NOT READY on any open stop-ship or a score under the minimum; conditions on high findings
    or security under 90; READY otherwise."""
    if any(f.stop_ship for f in findings) or score < config.minimum_score:
        return NOT_READY
    security = next(c for c in categories if c.id == "security")
    security_min = config.strictness.security_min
    if security_min is not None and security.score < security_min:
        return NOT_READY
    if any(f.severity.rank >= 3 for f in findings) or security.score < 90:
        return CONDITIONS
    return READY


def quick_wins(
    findings: list[Finding], limit: int = 8, efforts: Mapping[str, int] | None = None
) -> list[QuickWin]:
    """Per rule, the points the total would gain if every instance were fixed, best gain per effort
    first. With `efforts` (minutes per instance, by rule id: the rules' `effort`), only rules fixed
    in under QUICK_WIN_MINUTES per place are quick wins and effort is those minutes times the
    places to change; without, effort is the number of places."""
    first: dict[str, Finding] = {}
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        if f.rule not in first:
            first[f.rule] = f
        counts[f.rule] += 1
    by_rule = [(f, counts[rule]) for rule, f in first.items()]
    return quick_wins_of(by_rule, deductions_by_category(findings), limit, efforts)


def quick_wins_of(
    by_rule: Iterable[Group],
    deductions: dict[str, int],
    limit: int = 8,
    efforts: Mapping[str, int] | None = None,
    open_counts: Mapping[str, int] | None = None,
) -> list[QuickWin]:
    """quick_wins() from one group per rule and the deductions of all the open findings. With
    `open_counts` (per rule, how many findings are open), the groups count only some of them (the
    listed ones): a win fixes those, the others stay."""
    weights = {c.id: c.weight for c in CATEGORIES}

    def total(changed: str | None = None, minus: int = 0) -> int:
        weighted = 0.0
        for category, weight in weights.items():
            taken = deductions.get(category, 0) - (minus if category == changed else 0)
            weighted += max(0, 100 - taken) * weight
        return int(weighted / 100 + 0.5)

    base = total()
    wins = []
    for first, count in by_rule:
        minutes = None
        if efforts is not None:
            each = efforts.get(first.rule, 0)
            if not 0 < each < QUICK_WIN_MINUTES:
                continue
            minutes = each * count
        minus = _deducted(first, count)
        if open_counts is not None:
            n = open_counts.get(first.rule, count)
            minus = _deducted(first, n) - _deducted(first, n - count)
        gain = total(first.category, minus) - base
        if gain >= 1:
            wins.append(QuickWin(first.rule, first.name, gain, first.fix, count, minutes))
    wins.sort(key=lambda w: (-w.points / (w.effort or w.count), -w.points, w.rule))
    return wins[:limit]


def projected_score(findings: list[Finding], wins: list[QuickWin]) -> int:
    """The score once the stop-ship findings and the listed quick wins are fixed."""
    fixed_rules = {w.rule for w in wins}
    return score_of([f for f in findings if not f.stop_ship and f.rule not in fixed_rules])


def projected_score_of(not_stop_ship: Iterable[Group], wins: list[QuickWin]) -> int:
    """projected_score() from the groups of the open findings that are not stop-ship."""
    fixed_rules = {w.rule for w in wins}
    kept = [(f, n) for f, n in not_stop_ship if f.rule not in fixed_rules]
    return total_score(category_scores_of(deductions_of(kept)))


def wins_within(
    groups: Iterable[Group],
    listed: list[Finding],
    limit: int = 8,
    efforts: Mapping[str, int] | None = None,
) -> tuple[list[QuickWin], int]:
    """Quick wins and the projected score of a report that lists only some of the open findings
    (`groups`: all of them, one group per rule): a win fixes the listed findings of its rule,
    the projection fixes those and the listed stop-ship findings; the findings not listed stay."""
    open_counts: dict[str, int] = defaultdict(int)
    kept = list(groups)
    for first, n in kept:
        open_counts[first.rule] += n
    wins = quick_wins_of(groups_of(listed), deductions_of(kept), limit, efforts, open_counts)
    win_rules = {w.rule for w in wins}
    fixed = Counter(f.rule for f in listed if f.stop_ship or f.rule in win_rules)
    after: list[Group] = []
    for first, n in kept:
        taken = min(n, fixed[first.rule])
        fixed[first.rule] -= taken
        after.append((first, n - taken))
    return wins, total_score(category_scores_of(deductions_of(after)))


def gates(
    findings: list[Finding],
    score: int,
    categories: list[CategoryScore],
    config: StopshipConfig,
    gate_rules: dict[str, set[str]],
) -> list[Gate]:
    """The release gate checklist of the full audit."""
    stops = [f for f in findings if f.stop_ship]
    security = next(c for c in categories if c.id == "security").score
    out = [
        Gate(
            "No open stop-ship findings",
            not stops,
            "none open" if not stops else f"{len(stops)} open",
        ),
        Gate(
            f"Score at least {config.minimum_score}",
            score >= config.minimum_score,
            f"score {score}",
        ),
    ]
    security_min = config.strictness.security_min
    if security_min is not None:
        out.append(
            Gate(
                f"Security at least {security_min}",
                security >= security_min,
                f"security {security}",
            )
        )
    ci_rules = gate_rules.get("ci", set())
    ci = [f for f in findings if f.rule in ci_rules]
    out.append(Gate("CI with tests present", not ci, "present" if not ci else ci[0].message))
    migration_rules = gate_rules.get("migrations", set())
    migrations = [f for f in findings if f.rule in migration_rules and f.severity.rank >= 3]
    out.append(
        Gate(
            "Migrations safe",
            not migrations,
            "no unsafe migration"
            if not migrations
            else f"{len(migrations)} unsafe migration finding(s)",
        )
    )
    return out
