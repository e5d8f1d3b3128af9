"""Known-vulnerable dependencies reported by a source outside the tree (the App: the
repository's open Dependabot alerts), as findings at the manifest and dependency each names, and
merged into a Report (the score, grade, verdict and gates follow).

Each high alert is `SEC028 vulnerable-dependency` (high, 8 points), each critical one
`SEC029 vulnerable-dependency-critical` (critical, 15 points); the ruleset's entries for
those ids (their names, points, fix) are used when it has them, and the config's `rules.disable`
and severity overrides apply. Stop-ship follows the strictness: at High (`public` and above)
every high-or-worse security finding is stop-ship (CHECKS.md), so these are too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from app.engine.audit import fingerprint
from app.engine.config import StopshipConfig
from app.engine.model import Finding, Severity, Waiver
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.scoring import (
    category_scores_of,
    deductions_by_category,
    gates,
    grade_for,
    total_score,
    verdict_for,
)


@dataclass(frozen=True)
class VulnerableDependency:
    """One vulnerable dependency as its source names it: the manifest (a path in the repository),
    the package and its ecosystem, the severity (`high`, `critical`), the advisory ids (GHSA,
    CVE) and the first version that fixes it (None: no fix released)."""

    manifest: str
    package: str
    ecosystem: str
    severity: str
    advisories: tuple[str, ...] = ()
    fixed_version: str | None = None
    summary: str = ""


@dataclass(frozen=True)
class _RuleInfo:
    id: str
    name: str
    severity: Severity
    points: int


RULES = {
    "high": _RuleInfo("SEC028", "vulnerable-dependency", Severity.HIGH, 8),
    "critical": _RuleInfo("SEC029", "vulnerable-dependency-critical", Severity.CRITICAL, 15),
}


def _fix(dep: VulnerableDependency) -> str:
    if dep.fixed_version:
        return f"Upgrade `{dep.package}` in `{dep.manifest}` to {dep.fixed_version} or later."
    return (
        f"No fixed version of `{dep.package}` is released yet: replace it, or remove the "
        "vulnerable code path and waive the finding with a reason."
    )


def findings_of(
    deps: Iterable[VulnerableDependency], ruleset: Ruleset, config: StopshipConfig
) -> list[Finding]:
    """The findings of `deps` (other severities than high and critical give none)."""
    high_strictness = config.strictness.level == "High"
    out: list[Finding] = []
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for dep in deps:
        info = RULES.get(dep.severity)
        if info is None or info.id in config.rules.disable:
            continue
        rule = ruleset.by_id.get(info.id)
        severity = config.rules.severity.get(info.id, rule.severity if rule else info.severity)
        ids = ", ".join(dep.advisories) or "an advisory"
        text = f"{dep.ecosystem}:{dep.package}:{','.join(dep.advisories)}"
        key = (info.id, dep.manifest, text)
        occurrence = seen[key]
        seen[key] += 1
        detail = f"{dep.package} ({dep.ecosystem or 'unknown ecosystem'}): {ids}"
        if dep.summary:
            detail += f" — {dep.summary}"
        out.append(
            Finding(
                fingerprint=fingerprint(info.id, dep.manifest, text, occurrence),
                rule=info.id,
                name=rule.name if rule else info.name,
                category="security",
                severity=severity,
                stop_ship=(rule is not None and rule.stop_ship)
                or (high_strictness and severity.rank >= 3),
                path=dep.manifest,
                line=None,
                message=f"Known vulnerable dependency: {detail}",
                fix=_fix(dep),
                points=rule.points if rule else info.points,
                max_points=rule.max_points if rule else None,
            )
        )
    return out


def merged(
    report: Report,
    extra: list[Finding],
    ruleset: Ruleset,
    config: StopshipConfig,
    waivers: Mapping[str, Waiver] | None = None,
) -> Report:
    """`report` with `extra` findings counted: waived ones listed as accepted risk, the others
    open, and the categories, score, grade, verdict and gates recomputed."""
    if not extra:
        return report
    waivers = waivers or {}
    waived = [
        replace(f, suppressed_by=waivers[f.fingerprint].describe())
        for f in extra
        if f.fingerprint in waivers
    ]
    opened = [f for f in extra if f.fingerprint not in waivers]
    deductions = {c.id: c.deductions for c in report.categories}
    for category, points in deductions_by_category(opened).items():
        deductions[category] = deductions.get(category, 0) + points
    categories = category_scores_of(deductions)
    score = total_score(categories)
    kept_open = {c.id: c.deductions for c in report.categories}
    for category, points in deductions_by_category([f for f in opened if not f.stop_ship]).items():
        kept_open[category] = kept_open.get(category, 0) + points
    lost = report.score - total_score(category_scores_of(kept_open))
    listed = sorted(
        opened + report.findings, key=lambda f: (not f.stop_ship, -f.severity.rank)
    )  # stable: the report's own order is kept within each group
    gate_rules: dict[str, set[str]] = defaultdict(set)
    for rule in ruleset.rules:
        if rule.gate:
            gate_rules[rule.gate].add(rule.id)
    return replace(
        report,
        score=score,
        grade=grade_for(score),
        verdict=verdict_for(listed, score, categories, config),
        categories=categories,
        findings=listed,
        suppressed=report.suppressed + waived,
        gates=gates(listed, score, categories, config, gate_rules),
        projected_score=max(0, report.projected_score - lost),
    )
