"""OSV records to advisories, and advisories to hits: severity, fixed versions, the fix text."""

from __future__ import annotations

from app.engine.lockfiles import LockedPackage
from app.engine.model import Severity
from app.engine.vulnerabilities import (
    Advisory,
    advisory_from_osv,
    severity_of,
    vulnerability_hits,
)

DJANGO = LockedPackage("PyPI", "django", "3.2.0", 4)


def _affected(name: str, *fixed: str) -> dict:
    events = [{"introduced": "0"}] + [{"fixed": f} for f in fixed]
    return {"package": {"ecosystem": "PyPI", "name": name}, "ranges": [{"events": events}]}


def test_severity_from_the_label_then_the_ecosystem_then_cvss() -> None:
    assert severity_of({"database_specific": {"severity": "MODERATE"}}) is Severity.MEDIUM
    assert (
        severity_of({"affected": [{"ecosystem_specific": {"severity": "HIGH"}}]}) is Severity.HIGH
    )
    v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": v3}]}) is Severity.CRITICAL
    v4 = "CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"
    assert severity_of({"severity": [{"type": "CVSS_V4", "score": v4}]}) is Severity.HIGH
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": "garbage"}]}) is None
    assert severity_of({}) is None


def test_fixed_versions_are_those_of_the_pinned_package_spelled_as_pypi_spells_it() -> None:
    record = {
        "id": "GHSA-1",
        "aliases": ["CVE-2023-1"],
        "database_specific": {"severity": "HIGH"},
        "affected": [_affected("Django", "3.2.19", "4.1.9"), _affected("other", "9.9")],
    }
    advisory = advisory_from_osv(record, DJANGO)
    assert advisory == Advisory("GHSA-1", Severity.HIGH, ("CVE-2023-1",), ("3.2.19", "4.1.9"))


def test_the_fix_names_the_least_version_that_fixes_every_advisory() -> None:
    advisories = {
        DJANGO.key: [
            Advisory("GHSA-1", Severity.HIGH, (), ("3.2.19", "4.1.9")),
            Advisory("GHSA-2", Severity.CRITICAL, (), ("3.2.20",)),
            Advisory("GHSA-3", Severity.LOW, (), ("5.0",)),
        ]
    }
    [hit] = vulnerability_hits({"requirements.txt": [DJANGO]}, advisories)["requirements.txt"]
    assert (hit.rule, hit.line) == ("SEC029", 4)
    assert hit.fix.startswith("Upgrade django to 3.2.20 or later (it fixes GHSA-1, GHSA-2)")
    assert "GHSA-3" not in hit.detail


def test_no_fix_text_when_an_advisory_has_no_fixed_version() -> None:
    advisories = {DJANGO.key: [Advisory("GHSA-1", Severity.HIGH, (), ())]}
    [hit] = vulnerability_hits({"poetry.lock": [DJANGO]}, advisories)["poetry.lock"]
    assert hit.fix == "" and "no fixed version published" in hit.detail


def test_npm_versions_compare_by_number() -> None:
    lodash = LockedPackage("npm", "lodash", "4.17.9", 2)
    advisories = {lodash.key: [Advisory("GHSA-1", Severity.HIGH, (), ("4.17.12", "4.17.21"))]}
    [hit] = vulnerability_hits({"yarn.lock": [lodash]}, advisories)["yarn.lock"]
    assert hit.fix.startswith("Upgrade lodash to 4.17.12 or later")
