"""The corpus of sample services, one per stack: planted defects must all be found (recall 100%),
and the well-built twins must have no finding of medium severity or worse.

Each `*-bad` service has `expected/<service>.yml` (kept outside the service, so the expectations
are not themselves audited): `findings: [{rule, path?, line?}]`. Findings the audit
makes that are not expected count against precision, which is reported per category.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from app.checkout.audit_local import audit_checkout
from app.engine.model import Finding

HERE = Path(__file__).parent
EXPECTED = HERE / "expected"
BAD = sorted(p for p in HERE.glob("*-bad") if (EXPECTED / f"{p.name}.yml").is_file())
GOOD = sorted(HERE.glob("*-good"))


def _audit(service: Path) -> list[Finding]:
    report, _ = audit_checkout(service, use_cache=False, jobs=1)
    return report.findings


def _matches(finding: Finding, expected: dict) -> bool:
    if finding.rule != expected["rule"]:
        return False
    if "path" in expected and finding.path != expected["path"]:
        return False
    return "line" not in expected or finding.line == expected["line"]


@pytest.mark.parametrize("service", BAD, ids=lambda p: p.name)
def test_planted_defects_are_all_found(service: Path) -> None:
    expected = yaml.safe_load((EXPECTED / f"{service.name}.yml").read_text())["findings"]
    findings = _audit(service)
    missing = [e for e in expected if not any(_matches(f, e) for f in findings)]
    unexpected = [f for f in findings if not any(_matches(f, e) for e in expected)]
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in findings:
        per_category[f.category][1] += 1
        if f not in unexpected:
            per_category[f.category][0] += 1
    summary = ", ".join(f"{c}: precision {tp}/{n}" for c, (tp, n) in sorted(per_category.items()))
    print(f"\n{service.name}: recall {len(expected) - len(missing)}/{len(expected)}; {summary}")
    for f in unexpected:
        print(f"  unexpected: {f.rule} {f.path}:{f.line} {f.message}")
    assert not missing, f"{service.name}: planted defects not found: {missing}"


@pytest.mark.parametrize("service", GOOD, ids=lambda p: p.name)
def test_well_built_service_has_no_medium_or_worse_finding(service: Path) -> None:
    findings = _audit(service)
    serious = [f"{f.rule} {f.path}:{f.line} {f.message}" for f in findings if f.severity.rank >= 2]
    assert not serious, f"{service.name}: {serious}"
