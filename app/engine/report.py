"""The one Report every renderer reads. Renderers compute nothing the Report does not hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.engine.attestations import AttestationStatus, unconfirmed
from app.engine.model import Finding
from app.engine.release import MigrationHistory


@dataclass(frozen=True)
class CategoryScore:
    id: str
    name: str
    weight: int
    score: int
    deductions: int

    @property
    def weighted(self) -> float:
        return self.score * self.weight / 100


@dataclass(frozen=True)
class QuickWin:
    rule: str
    name: str
    points: int
    fix: str
    count: int
    # Minutes to fix every place (the rule's effort x count); None when efforts were not known.
    effort: int | None = None


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Stack:
    languages: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    databases: tuple[str, ...] = ()
    infrastructure: tuple[str, ...] = ()
    ci: tuple[str, ...] = ()
    # languages of the repository that no rule reads (their code is not audited)
    not_analysed: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [
            ", ".join(x)
            for x in (self.languages, self.frameworks, self.databases, self.infrastructure, self.ci)
            if x
        ]
        text = " · ".join(parts) or "unknown"
        if self.not_analysed:
            text += f" ({', '.join(self.not_analysed)} not analysed: its code is not audited)"
        return text

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "languages": list(self.languages),
            "frameworks": list(self.frameworks),
            "databases": list(self.databases),
            "infrastructure": list(self.infrastructure),
            "ci": list(self.ci),
            "not_analysed": list(self.not_analysed),
        }


@dataclass(frozen=True)
class ScanStats:
    files_total: int = 0
    files_analyzed: int = 0
    cache_hits: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    parse_problems: tuple[tuple[str, str], ...] = ()

    def problems(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The parse problems split into files a parser could not read, and files deliberately
        skipped (`sql: skipped: MySQL dialect`, templated SQL)."""
        skipped = [(p, m) for p, m in self.parse_problems if ": skipped: " in f": {m}"]
        failed = [(p, m) for p, m in self.parse_problems if ": skipped: " not in f": {m}"]
        return failed, skipped


@dataclass(frozen=True)
class FindingsDiff:
    """A change compared with its base commit, finding by finding (by fingerprint, after carrying
    the base's findings along the files the change renamed): what it introduces, what it fixes,
    what it silences with an inline suppression, and what was there before."""

    base_sha: str
    introduced: list[Finding]
    fixed: list[Finding]
    existing: list[Finding]
    silenced: list[Finding] = field(default_factory=list)


@dataclass
class Report:
    repo: str
    date: str
    stack: Stack
    strictness: str
    min_score: int
    score: int
    grade: str
    verdict: str
    categories: list[CategoryScore]
    findings: list[Finding]
    suppressed: list[Finding]
    quick_wins: list[QuickWin]
    gates: list[Gate]
    done_well: list[str]
    projected_score: int
    stats: ScanStats = field(default_factory=ScanStats)
    # Findings hidden by --changed-since (outside the changed files); they still count in the score.
    out_of_scope: int = 0
    # A pull request or merge group compared with its base (None for a push or a local scan).
    baseline: FindingsDiff | None = None
    # Migrations up to the release baseline are history: how many, and up to which baseline.
    migrations: MigrationHistory | None = None
    # The gate policy's one-line reason (app/engine/gate.py), set by the face that judged it.
    gate_reason: str = ""
    # Where the audited folder lies in its repository (`services/api/`, or ""): annotations and
    # SARIF name files from the repository's root, as GitHub places them.
    root_prefix: str = ""
    # The file that stands for the repository (its README or manifest, app/engine/repo_anchor.py):
    # where SARIF shows repository-level findings, since GitHub needs a file for each.
    repo_anchor: str | None = None
    # What people confirm (app/engine/attestations.py): the items the launch stage requires, with
    # the confirmations in force (the App fills them in; a local run has none).
    attestations: list[AttestationStatus] = field(default_factory=list)
    # What the audit could not do, one line each (`Dependencies not checked for vulnerabilities:
    # OSV unreachable (...)`): shown by every renderer, never a finding.
    notices: list[str] = field(default_factory=list)
    # Whether merges into the judged release branch wait for the check (app/github/branch_rules.py),
    # set by the App for a push to or a pull request into a release branch; "" elsewhere.
    branch_protection: str = ""
    # The default branch's scores, oldest first, ending with this one (the App's stored analyses).
    score_history: tuple[int, ...] = ()
    # Sources the App could not read, with why (`Dependabot alerts: not checked (...)`).
    not_checked: tuple[str, ...] = ()

    def from_root(self, path: str | None) -> str | None:
        """A finding's path from the repository's root."""
        return None if path is None else self.root_prefix + path

    @property
    def checklist(self) -> list[Gate]:
        """The release-gate checklist: the gates code shows, then each required attestation as
        a question a person answers."""
        return self.gates + [
            Gate(s.question, s.passed, s.detail()) for s in self.attestations if s.required
        ]

    @property
    def unconfirmed(self) -> list[str]:
        """The required attestations nobody has confirmed."""
        return unconfirmed(self.attestations)

    @property
    def stop_ship(self) -> list[Finding]:
        return [f for f in self.findings if f.stop_ship]

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity and not f.stop_ship]

    def counts(self) -> dict[str, int]:
        out = {"stop_ship": len(self.stop_ship)}
        for s in ("critical", "high", "medium", "low"):
            out[s] = sum(1 for f in self.findings if f.severity == s)
        return out
