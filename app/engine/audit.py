"""From per-file results to a Report: repository rules, suppressions, config, strictness, score.

Pure: it is handed every path and every FileResult; it reads nothing itself.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.engine.attestations import required_statuses
from app.engine.config import StopshipConfig, Strictness
from app.engine.detectors import REPO_DETECTORS, RepoHit, RepoView, resolvers_by_rule
from app.engine.model import (
    CATEGORY_BY_ID,
    Fact,
    FileResult,
    Finding,
    Hit,
    Severity,
    Suppression,
    Waiver,
)
from app.engine.paths import matches_any
from app.engine.release import NO_BASELINE, MigrationHistory, ReleaseBaseline, history_of
from app.engine.report import CategoryScore, QuickWin, Report, ScanStats, Stack
from app.engine.ruleset import Rule, Ruleset
from app.engine.scoring import (
    category_scores,
    gates,
    grade_for,
    groups_of,
    projected_score,
    quick_wins,
    total_score,
    verdict_for,
    wins_within,
)
from app.engine.stack import detect_stack
from app.engine.suppressions import suppression_for

# Decides whether an inline suppression may be honoured (a PR into a release branch may not
# silence its own stop-ship findings): (path, suppression, finding) -> honoured?
SuppressionPolicy = Callable[[str, Suppression, Finding], bool]


@dataclass
class AuditInput:
    repo: str
    paths: list[str]
    results: dict[str, FileResult]
    stats: ScanStats = field(default_factory=ScanStats)
    # Limit the listed findings to these paths (the score still covers the whole tree).
    changed_paths: set[str] | None = None
    suppression_policy: SuppressionPolicy | None = None
    date: str | None = None
    # Waivers in force, by finding fingerprint: a waived finding is listed as accepted risk and
    # neither deducts points nor blocks the gate.
    waivers: dict[str, Waiver] = field(default_factory=dict)
    # What the next deployment builds on: findings in migrations it already ran are history.
    release: ReleaseBaseline = NO_BASELINE
    # Hits by path that the engine did not find by reading files, for rules whose matcher is
    # `external` (known vulnerabilities of pinned dependencies: OSV, Dependabot alerts).
    external_hits: dict[str, list[Hit]] = field(default_factory=dict)
    # One-line notes on what the audit could not do (`Dependencies not checked for
    # vulnerabilities: OSV unreachable (...)`); they change neither the score nor the gate.
    notices: list[str] = field(default_factory=list)


def fingerprint(rule: str, path: str | None, text: str, occurrence: int) -> str:
    """Stable identity: rule, path, whitespace-normalised matched text, occurrence number."""
    return _fingerprint(rule, path, _normalised(text), occurrence)


def _normalised(text: str) -> str:
    # what `re.sub(r"\s+", " ", text).strip()` gives (both use str.isspace), without a regex
    return " ".join(text.split())


def _fingerprint(rule: str, path: str | None, norm: str, occurrence: int) -> str:
    raw = f"{rule}\0{path or ''}\0{norm}\0{occurrence}".encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def _stop_ship(
    rule: Rule, severity: Severity, path: str | None, config: StopshipConfig, strictness: Strictness
) -> bool:
    """CHECKS.md strictness: Low -> critical security S only; Medium -> every S; High -> every S
    and every high-or-worse security finding; paid/payments -> also every payment-path finding of
    medium severity or worse."""
    if strictness.level == "Low":
        stop = rule.stop_ship and rule.category == "security" and severity is Severity.CRITICAL
    elif strictness.level == "Medium":
        stop = rule.stop_ship
    else:
        stop = rule.stop_ship or (rule.category == "security" and severity.rank >= 3)
    if (
        not stop
        and strictness.payments_stop_ship
        and path is not None
        and severity.rank >= 2
        and matches_any(path, config.payment_paths)
    ):
        stop = True
    return stop


class _FindingFactory:
    """Findings from hits: the rule's metadata, severity override, stop-ship by strictness and
    fingerprint. No finding for a disabled rule, nor in a migration the release baseline already
    ran, except a security finding (a credential or account a migration created is still there)."""

    def __init__(
        self, ruleset: Ruleset, config: StopshipConfig, release: ReleaseBaseline = NO_BASELINE
    ) -> None:
        self.ruleset = ruleset
        self.config = config
        self.release = release
        self.disabled = set(config.rules.disable)
        self.strictness = config.strictness  # a property that builds a new object each time
        self._occurrences: dict[tuple[str, str | None, str], int] = defaultdict(int)
        # per rule: the rule, its severity, and whether its findings are stop-ship wherever they
        # are (None when that depends on the path: payment paths under payment strictness)
        self._rules: dict[str, tuple[Rule, Severity, bool | None] | None] = {}

    def _rule(self, rule_id: str) -> tuple[Rule, Severity, bool | None] | None:
        if rule_id in self._rules:
            return self._rules[rule_id]
        rule = self.ruleset.by_id.get(rule_id)
        entry = None
        if rule is not None and rule_id not in self.disabled:
            severity = self.config.rules.severity.get(rule_id, rule.severity)
            anywhere = _stop_ship(rule, severity, None, self.config, self.strictness)
            fixed = (
                anywhere
                if anywhere or not self.strictness.payments_stop_ship or severity.rank < 2
                else None
            )
            entry = (rule, severity, fixed)
        self._rules[rule_id] = entry
        return entry

    def make(
        self,
        rule_id: str,
        path: str | None,
        line: int | None,
        text: str,
        detail: str,
        fix: str = "",
    ) -> Finding | None:
        found = self._rule(rule_id)
        if found is None:
            return None
        rule, severity, stop_ship = found
        if path is not None and rule.category != "security" and self.release.applied(path):
            return None
        if stop_ship is None:
            stop_ship = _stop_ship(rule, severity, path, self.config, self.strictness)
        norm = _normalised(text)
        key = (rule_id, path, norm)
        occurrence = self._occurrences[key]
        self._occurrences[key] = occurrence + 1
        message = rule.message if not detail else f"{rule.message}: {detail}"
        return Finding(
            fingerprint=_fingerprint(rule_id, path, norm, occurrence),
            rule=rule_id,
            name=rule.name,
            category=rule.category,
            severity=severity,
            stop_ship=stop_ship,
            path=path,
            line=line,
            message=message,
            fix=fix or rule.fix,
            points=rule.points,
            max_points=rule.max_points,
        )


def _facts_view(
    paths: list[str], results: dict[str, FileResult], release: ReleaseBaseline = NO_BASELINE
) -> RepoView:
    facts: dict[str, list[tuple[str, Fact]]] = defaultdict(list)
    for path in paths:
        result = results.get(path)
        if result is None:
            continue
        for fact in result.facts:
            facts[fact.kind].append((path, fact))
    return RepoView(paths=paths, facts=dict(facts), release=release)


def _repo_hits(rule: Rule, view: RepoView) -> list[RepoHit]:
    m = rule.matcher.repo
    assert m is not None
    if m.detector:
        return list(REPO_DETECTORS[m.detector](view, m.options))
    if m.when and not any(view.has(k) for k in m.when):
        return []
    if any(view.has(k) for k in m.missing):
        return []
    return [RepoHit()]


def praised(
    ruleset: Ruleset,
    categories: list[CategoryScore],
    repo_praise: list[str],
    fired: Container[str],
    disabled: Container[str],
) -> list[str]:
    """What's done well: each category without findings, the repository rules that found
    nothing (`repo_praise`), then the file rules that fired nowhere (and are not disabled)."""
    file_praise = [
        rule.praise
        for rule in ruleset.file_rules()
        if rule.praise and rule.id not in fired and rule.id not in disabled
    ]
    clean = [f"{c.name}: no findings" for c in categories if c.score == 100]
    return clean + repo_praise + file_praise


def build_report(ruleset: Ruleset, config: StopshipConfig, audit: AuditInput) -> Report:
    """Turn per-file results and the tree into the scored Report."""
    paths = [p for p in audit.paths if not matches_any(p, config.ignore_paths)]
    factory = _FindingFactory(ruleset, config, audit.release)
    open_findings: list[Finding] = []
    suppressed: list[Finding] = []
    fired: set[str] = set()
    view = _facts_view(paths, audit.results, audit.release)
    resolvers = resolvers_by_rule(ruleset.file_rules())
    for path in sorted(paths):
        result = audit.results.get(path)
        if result is None:
            continue
        for hit in result.hits:
            resolver = resolvers.get(hit.rule)
            if resolver is not None and resolver(path, hit, view):
                continue
            finding = factory.make(hit.rule, path, hit.line, hit.text, hit.detail)
            if finding is None:
                continue
            fired.add(hit.rule)
            sup = suppression_for(hit.rule, hit.line, result.suppressions)
            if sup is not None and (
                audit.suppression_policy is None or audit.suppression_policy(path, sup, finding)
            ):
                finding.suppressed_by = sup.reason or "(no reason given)"
                suppressed.append(finding)
            elif finding.fingerprint in audit.waivers:
                finding.suppressed_by = audit.waivers[finding.fingerprint].describe()
                suppressed.append(finding)
            else:
                open_findings.append(finding)

    external = {r.id for r in ruleset.rules if r.is_external}
    audited = set(paths)
    for path in sorted(audit.external_hits):
        if path not in audited:
            continue  # ignored by the config, or not in the tree
        for hit in audit.external_hits[path]:
            if hit.rule not in external:
                continue
            finding = factory.make(hit.rule, path, hit.line, hit.text, hit.detail, hit.fix)
            if finding is None:
                continue
            fired.add(hit.rule)
            if finding.fingerprint in audit.waivers:
                finding.suppressed_by = audit.waivers[finding.fingerprint].describe()
                suppressed.append(finding)
            else:
                open_findings.append(finding)

    praise: list[str] = []
    for rule in ruleset.repo_rules():
        if rule.id in factory.disabled:
            continue
        hits = _repo_hits(rule, view)
        if not hits and rule.praise:
            praise.append(rule.praise)
        for repo_hit in hits:
            finding = factory.make(
                rule.id, repo_hit.path, repo_hit.line, repo_hit.text, repo_hit.detail
            )
            if finding is None:
                continue
            fired.add(rule.id)
            waiver = audit.waivers.get(finding.fingerprint)
            if waiver is not None:
                finding.suppressed_by = waiver.describe()
                suppressed.append(finding)
            else:
                open_findings.append(finding)

    categories = category_scores(open_findings)
    listed = open_findings
    if audit.changed_paths is not None:
        changed = audit.changed_paths
        listed = [f for f in open_findings if f.path is None or f.path in changed]
    listed.sort(
        key=lambda f: (not f.stop_ship, -f.severity.rank, f.category, f.path or "", f.line or 0)
    )
    if audit.changed_paths is None:
        wins = quick_wins(open_findings, efforts=ruleset.efforts)
        projected = projected_score(open_findings, wins)
    else:  # quick wins and the closing line speak of the listed findings only
        wins, projected = wins_within(
            groups_of(open_findings), listed, efforts=ruleset.efforts
        )
    report = assemble_report(
        ruleset,
        config,
        repo=audit.repo,
        date=audit.date,
        stack=detect_stack(view),
        categories=categories,
        listed=listed,
        suppressed=suppressed,
        wins=wins,
        done_well=praised(ruleset, categories, praise, fired, factory.disabled),
        projected=projected,
        stats=audit.stats,
        out_of_scope=len(open_findings) - len(listed),
        migrations=history_of(paths, audit.release),
    )
    report.notices = list(audit.notices)
    return report


def assemble_report(
    ruleset: Ruleset,
    config: StopshipConfig,
    *,
    repo: str,
    date: str | None,
    stack: Stack,
    categories: list[CategoryScore],
    listed: list[Finding],
    suppressed: list[Finding],
    wins: list[QuickWin],
    done_well: list[str],
    projected: int,
    stats: ScanStats,
    out_of_scope: int,
    migrations: MigrationHistory | None = None,
) -> Report:
    """The Report of scored findings (both report builders end here): the total, grade, verdict
    and release gates follow from the categories and the listed findings."""
    score = total_score(categories)
    gate_rules: dict[str, set[str]] = defaultdict(set)
    for rule in ruleset.rules:
        if rule.gate:
            gate_rules[rule.gate].add(rule.id)
    return Report(
        repo=repo,
        date=date or datetime.now(UTC).strftime("%Y-%m-%d"),
        stack=stack,
        strictness=config.strictness.describe(),
        min_score=config.minimum_score,
        score=score,
        grade=grade_for(score),
        verdict=verdict_for(listed, score, categories, config),
        categories=categories,
        findings=listed,
        suppressed=suppressed,
        quick_wins=wins,
        gates=gates(listed, score, categories, config, gate_rules),
        done_well=done_well,
        projected_score=projected,
        stats=stats,
        out_of_scope=out_of_scope,
        migrations=migrations,
        attestations=required_statuses(config.required_attestations),
    )


def category_name(category_id: str) -> str:
    return CATEGORY_BY_ID[category_id].name
