"""Operational readiness the repository shows (DEP020 update automation and security scanning,
DEP021 runbook, OBS008 alerting): what counts, and the look-alikes that do not."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.detectors.ci_commands import gates_of
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

SERVICE = {
    "app/main.py": (
        "from fastapi import FastAPI\n"
        "from prometheus_fastapi_instrumentator import Instrumentator\n"
        "app = FastAPI()\n"
        "Instrumentator().instrument(app).expose(app)\n"
    )
}
OPERATIONS_RULES = {"DEP020", "DEP021", "OBS008"}


def fired(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer) -> dict[str, str]:
    report = audit_files({**SERVICE, **files}, ruleset, analyzer=analyzer)
    return {f.rule: f.message for f in report.findings if f.rule in OPERATIONS_RULES}


def workflow(*steps: str) -> str:
    runs = "".join(f"      - {step}\n" for step in steps)
    return "on: [push, pull_request]\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n" + runs


@pytest.mark.parametrize(
    ("command", "security"),
    [
        ("pip-audit -r requirements.txt", True),
        ("npm audit --audit-level=high", True),
        ("govulncheck ./...", True),
        ("trivy image app:latest", True),
        ("stopship check .", True),
        ("pip install pip-audit bandit", False),  # installing a scanner is not running it
        ('echo "remember to run npm audit"', False),
        ("pytest", False),
    ],
)
def test_security_scanners_in_ci_commands(command: str, security: bool) -> None:
    assert ("ci-security" in gates_of([command])) is security


def test_a_codeql_workflow_and_dependabot_satisfy_dep020(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        ".github/workflows/ci.yml": workflow("run: pytest"),
        ".github/workflows/codeql.yml": workflow("uses: github/codeql-action/analyze@v3"),
        ".github/dependabot.yml": "version: 2\nupdates: []\n",
    }
    assert "DEP020" not in fired(files, ruleset, analyzer)


def test_dep020_says_which_half_is_missing(ruleset: Ruleset, analyzer: Analyzer) -> None:
    report = audit_files(
        {
            **SERVICE,
            ".github/workflows/ci.yml": workflow("run: pytest"),
            "renovate.json": '{"extends": ["config:recommended"]}',
        },
        ruleset,
        analyzer=analyzer,
    )
    (finding,) = [f for f in report.findings if f.rule == "DEP020"]
    assert "CI runs no security scanner" in finding.message
    assert "Renovate" not in finding.message.split(":", 1)[1]


def test_user_interface_alerts_are_not_alerting_rules(ruleset: Ruleset, analyzer: Analyzer) -> None:
    """A UI's `alerts/` templates (Bootstrap alert boxes) are not alerting; a rule file is."""
    ui = {
        "app/templates/inc/alerts/danger.html": "<div class='alert'></div>\n",
        "web/src/components/DeleteAlert.tsx": "export const DeleteAlert = () => null;\n",
    }
    assert "OBS008" in fired(ui, ruleset, analyzer)
    rules = {
        "ops/prometheus/rules.yml": (
            "groups:\n- name: api\n  rules:\n  - alert: Down\n    expr: up == 0\n"
        )
    }
    assert "OBS008" not in fired({**ui, **rules}, ruleset, analyzer)


def test_no_alerting_finding_without_metrics_or_outside_services(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    plain = {"app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"}
    assert "OBS008" not in fired(plain, ruleset, analyzer)
    library = audit_files(
        {"lib/stats.py": "import prometheus_client\n"}, ruleset, analyzer=analyzer
    )
    assert not {f.rule for f in library.findings} & {"OBS008", "DEP021"}


@pytest.mark.parametrize(
    "path",
    [
        "docs/runbook.md",
        "RUNBOOK.md",
        "docs/installation/upgrading.md",
        "OPERATIONS.md",
        "docs/deployment.rst",
        "runbooks/database-failover.md",
        "docs/ops/restore.md",
    ],
)
def test_runbook_names(path: str, ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert "DEP021" not in fired({path: "# Steps\n"}, ruleset, analyzer)


@pytest.mark.parametrize(
    "path", ["README.md", "docs/api.md", "deploy/kubernetes/app.yaml", "CHANGELOG.md"]
)
def test_not_runbooks(path: str, ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert "DEP021" in fired({path: "# Notes\n"}, ruleset, analyzer)
