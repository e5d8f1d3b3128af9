"""The records that flow through the engine: severities, categories, findings, facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """4 for critical down to 1 for low, so severities sort and compare."""
        return _RANKS[self._value_]  # not .value: enum's descriptor costs more than the look-up


_RANKS = {"critical": 4, "high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    weight: int


CATEGORIES: tuple[Category, ...] = (
    Category("security", "Security fundamentals", 25),
    Category("error-handling", "Error handling & resilience", 20),
    Category("observability", "Observability", 20),
    Category("deployment", "Deployment readiness", 15),
    Category("database", "Database patterns", 10),
    Category("container", "Container hygiene", 10),
)
CATEGORY_BY_ID: dict[str, Category] = {c.id: c for c in CATEGORIES}


@dataclass(frozen=True)
class Hit:
    """One match of a rule inside one file, before the rule's metadata is attached.

    `line` is 1-based, or None for a finding about the whole file. `text` is the matched
    source (used for the fingerprint; never shown for secrets). `detail` refines the message.
    """

    rule: str
    line: int | None
    text: str = ""
    detail: str = ""
    # A fix for this very place, over the rule's (`Upgrade requests to 2.20.0 ...`); only hits
    # handed in from outside carry one (the file caches do not keep it).
    fix: str = ""


@dataclass(frozen=True)
class Fact:
    """A small typed record that repository-level rules read (e.g. kind="health-endpoint").

    `value` qualifies it (a framework's name, a route); `line` locates it in its file.
    """

    kind: str
    value: str = ""
    line: int | None = None


@dataclass(frozen=True)
class ParseProblem:
    """A file that one of the parsers could not read; reported, never skipped silently."""

    parser: str
    message: str


@dataclass
class FileResult:
    """Everything the engine learns from one file's bytes; cacheable by blob id."""

    hits: list[Hit] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)


@dataclass(frozen=True)
class Suppression:
    """An inline `stopship: ignore[RULE] reason` comment on `line` (applies to it and the next),
    or another tool's suppression of the same class (`tool` names it: bandit, semgrep...)."""

    line: int
    rules: tuple[str, ...]
    reason: str
    tool: str = ""


@dataclass(frozen=True)
class Waiver:
    """A finding accepted as a documented risk (App: `/production waive`): who accepted it, why,
    and until when (an ISO date, inclusive; None for no end date). Handed to the engine as data:
    the caller passes only the waivers in force."""

    fingerprint: str
    reason: str
    by: str
    until: str | None = None

    def describe(self) -> str:
        """The justification as the reports show it."""
        until = f", until {self.until}" if self.until else ""
        return f"{self.reason} (waived by @{self.by}{until})"


@dataclass
class Finding:
    """A hit with its rule's metadata, located in the repository, with a stable fingerprint."""

    fingerprint: str
    rule: str
    name: str
    category: str
    severity: Severity
    stop_ship: bool
    path: str | None
    line: int | None
    message: str
    fix: str
    points: int
    max_points: int | None = None
    suppressed_by: str | None = None

    @property
    def short_id(self) -> str:
        """The first 8 characters of the fingerprint: what users type to waive a finding."""
        return self.fingerprint[:8]
