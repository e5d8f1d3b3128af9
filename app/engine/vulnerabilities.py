"""Known vulnerabilities of pinned dependencies, as hits of the vulnerable-dependency rules.

Pure: the advisories come from outside (OSV for the CLI and the Action, app/checkout/osv.py;
Dependabot alerts for the App). Only high and critical advisories are reported: SEC028 for a
package whose worst advisory is high, SEC029 for one with a critical advisory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from packaging.version import InvalidVersion, Version

from app.engine.lockfiles import LockedPackage
from app.engine.model import Hit, Severity

HIGH_RULE = "SEC028"
CRITICAL_RULE = "SEC029"
# how many advisory ids one finding names before "and N more"
_SHOWN = 4
_LABELS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}


@dataclass(frozen=True)
class Advisory:
    """One advisory against one pinned package: its id and aliases (GHSA, CVE), its severity
    (None when the source gives none), and the versions that fix it, when known."""

    id: str
    severity: Severity | None
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The id, then the GHSA and CVE aliases (what users search for)."""
        extra = [a for a in self.aliases if a.startswith(("GHSA-", "CVE-")) and a != self.id]
        return (self.id, *extra)


PackageKey = tuple[str, str, str]  # (ecosystem, name, version)
# GitHub's names of ecosystems (Dependabot alerts' `package.ecosystem`) as OSV and the lock-file
# readers name them
GITHUB_ECOSYSTEMS = {"pip": "PyPI", "npm": "npm", "go": "Go", "maven": "Maven"}


def severity_of(record: Mapping[str, Any]) -> Severity | None:
    """An OSV record's severity: the database's label (GitHub's HIGH, CRITICAL...) when given,
    else the highest CVSS v3 or v4 base score among its vectors."""
    label = _label(record.get("database_specific"))
    if label is None:
        for affected in _list(record.get("affected")):
            label = _label(affected.get("ecosystem_specific")) or _label(
                affected.get("database_specific")
            )
            if label is not None:
                break
    if label is not None:
        return label
    scores = [_cvss_score(s) for s in _list(record.get("severity"))]
    best = max((s for s in scores if s is not None), default=None)
    if best is None:
        return None
    if best >= 9.0:
        return Severity.CRITICAL
    if best >= 7.0:
        return Severity.HIGH
    return Severity.MEDIUM if best >= 4.0 else Severity.LOW


def advisory_from_osv(record: Mapping[str, Any], package: LockedPackage) -> Advisory:
    """The advisory an OSV vulnerability record (`GET /v1/vulns/{id}`) makes for `package`:
    the fixed versions are those of the record's ranges for that package."""
    fixed: list[str] = []
    for affected in _list(record.get("affected")):
        about = affected.get("package")
        if not isinstance(about, dict) or not _same_package(about, package):
            continue
        for range_ in _list(affected.get("ranges")):
            for event in _list(range_.get("events")):
                version = event.get("fixed")
                if isinstance(version, str) and version not in fixed:
                    fixed.append(version)
    aliases = tuple(a for a in record.get("aliases") or () if isinstance(a, str))
    return Advisory(
        id=str(record.get("id", "")),
        severity=severity_of(record),
        aliases=aliases,
        fixed=tuple(fixed),
    )


def vulnerability_hits(
    packages: Mapping[str, Sequence[LockedPackage]],
    advisories: Mapping[PackageKey, Sequence[Advisory]],
) -> dict[str, list[Hit]]:
    """Hits by lock-file path: one per pinned package with a high or critical advisory, at the
    line that pins it, naming the package, its version, the advisories and the fixed versions."""
    out: dict[str, list[Hit]] = {}
    for path, locked in packages.items():
        for package in locked:
            serious = [
                a
                for a in advisories.get(package.key, ())
                if a.severity is not None and a.severity.rank >= Severity.HIGH.rank
            ]
            if not serious:
                continue
            worst = max(a.severity.rank for a in serious if a.severity is not None)
            rule = CRITICAL_RULE if worst == Severity.CRITICAL.rank else HIGH_RULE
            hit = Hit(
                rule,
                package.line,
                text=f"{package.ecosystem} {package.name} {package.version}",
                detail=_detail(package, serious),
                fix=_fix(package, serious),
            )
            out.setdefault(path, []).append(hit)
    return out


def _detail(package: LockedPackage, advisories: Sequence[Advisory]) -> str:
    names = [" / ".join(a.names) for a in sorted(advisories, key=lambda a: a.id)]
    shown = ", ".join(names[:_SHOWN])
    if len(names) > _SHOWN:
        shown += f" and {len(names) - _SHOWN} more"
    fixed: list[str] = []
    for advisory in advisories:
        fixed += [v for v in advisory.fixed if v not in fixed]
    text = f"{package.name} {package.version} ({package.ecosystem}): {shown}"
    if fixed:
        text += f"; fixed in {', '.join(fixed[:_SHOWN])}"
    else:
        text += "; no fixed version published"
    return text


def _fix(package: LockedPackage, advisories: Sequence[Advisory]) -> str:
    """Upgrade to the least version that fixes every advisory, when each names a fixed version
    above the pinned one; else the rule's own fix stands."""
    pinned = _version_key(package.ecosystem, package.version)
    targets = []
    for advisory in advisories:
        above = [
            (key, v)
            for v in advisory.fixed
            if (key := _version_key(package.ecosystem, v)) is not None
            and pinned is not None
            and key > pinned
        ]
        if not above:
            return ""
        targets.append(min(above, key=lambda pair: pair[0]))
    version = max(targets, key=lambda pair: pair[0])[1]
    return (
        f"Upgrade {package.name} to {version} or later (it fixes "
        f"{', '.join(a.id for a in advisories)}) and regenerate the lock file."
    )


def _version_key(ecosystem: str, version: str) -> Any:
    """An order on one ecosystem's versions good enough to pick the next fixed release (None
    when it cannot be read): PEP 440 for PyPI, numeric then textual parts elsewhere (npm, Go and
    Maven releases are dotted numbers). Keys of one ecosystem compare with each other only."""
    if ecosystem == "PyPI":
        try:
            return Version(version)
        except InvalidVersion:
            return None
    parts = re.findall(r"\d+|[A-Za-z]+", version.removeprefix("v"))
    if not parts:
        return None
    # a pre-release (1.0.0-rc1) sorts before its release: text after the numbers ranks below
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts)


def _same_package(about: Mapping[str, Any], package: LockedPackage) -> bool:
    if about.get("ecosystem") != package.ecosystem:
        return False
    name = str(about.get("name", ""))
    if package.ecosystem == "PyPI":  # OSV keeps PyPI's spelling; lock files normalise it
        return name.lower().replace("_", "-").replace(".", "-") == package.name
    return name == package.name


def _label(specific: Any) -> Severity | None:
    if not isinstance(specific, dict):
        return None
    value = specific.get("severity")
    return _LABELS.get(value.lower()) if isinstance(value, str) else None


def _cvss_score(entry: Mapping[str, Any]) -> float | None:
    vector = entry.get("score")
    if not isinstance(vector, str):
        return None
    try:
        if vector.startswith("CVSS:3"):
            return float(CVSS3(vector).base_score)
        if vector.startswith("CVSS:4"):
            return float(CVSS4(vector).base_score)
    except (CVSSError, ValueError, KeyError):
        return None
    return None  # CVSS v2 and other schemes: not scored here


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
