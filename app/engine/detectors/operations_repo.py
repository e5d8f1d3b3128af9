"""Operational readiness the repository can show: an operations document (runbook) for deploy and
rollback, alerting rules beside the metrics, and dependency-update automation with security
scanning among the CI gates. Each is read from the tree (file names) and from facts; none reads a
document's prose, so each is reported low, for a person to confirm."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.engine.detectors import RepoHit, RepoView, repo_detector
from app.engine.detectors.ci_scripts import gates_run_through_scripts
from app.engine.paths import roles_of

# Prose an operator reads: runbooks, operations / deployment / upgrade / release / incident guides.
_DOC = r"\.(md|mdx|markdown|rst|adoc|txt)$"
_RUNBOOK_NAME = re.compile(
    r"(runbook|playbook|operations|operating|\bops\b|deploy|rollback|roll-back|upgrad|"
    r"release[-_ ]?process|releasing|incident|on-?call|disaster|maintenance)",
    re.IGNORECASE,
)
_RUNBOOK_DIR = re.compile(r"(^|/)(runbooks?|playbooks?|operations|ops)/", re.IGNORECASE)

# Dependabot or Renovate configured by a file of their own.
_UPDATE_BOT = re.compile(
    r"^(\.github/dependabot\.ya?ml|(\.github/|\.gitlab/)?renovate\.json5?|"
    r"\.renovaterc(\.json5?)?)$"
)

# Alerting defined as code by its file name: Prometheus rule files, Alertmanager, alert folders.
_ALERT_FILE = re.compile(
    r"(^|/)(alertmanager[^/]*\.ya?ml|[^/]*\.rules\.ya?ml|[^/]*alert[^/]*\.(ya?ml|json|jsonnet|"
    r"libsonnet|tf))$|(^|/)alert(s|ing)?/([^/]+/)*[^/]*\.(ya?ml|json|jsonnet|libsonnet|tf)$",
    re.IGNORECASE,
)


def _is_runbook(path: str) -> bool:
    if "vendored" in roles_of(path) or "generated" in roles_of(path):
        return False
    if _RUNBOOK_DIR.search(path) and re.search(_DOC, path, re.IGNORECASE):
        return True
    name = path.rsplit("/", 1)[-1]
    return bool(re.search(_DOC, name, re.IGNORECASE) and _RUNBOOK_NAME.search(name))


@repo_detector("no_runbook")
def no_runbook(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """A service (a web framework is used) with no document whose name says it is about operating
    it: deploying, upgrading, rolling back, incidents."""
    if not view.has("web-framework"):
        return
    if any(_is_runbook(path) for path in view.paths):
        return
    yield RepoHit(
        text="no runbook",
        detail="no document named for runbooks, operations, deployment, upgrades, rollback or "
        "incidents",
    )


@repo_detector("no_alerting")
def no_alerting(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """A service that exports metrics with no alerting rule anywhere in the repository."""
    if not (view.has("web-framework") and view.has("metrics")):
        return
    if view.has("alerting-rules") or any(_ALERT_FILE.search(path) for path in view.paths):
        return
    path, _ = view.where("metrics")[0]
    yield RepoHit(
        text="metrics without alerting",
        detail=f"metrics in {path}; no Prometheus rule, Alertmanager, Grafana alert or monitor "
        "file",
    )


@repo_detector("no_dependency_automation")
def no_dependency_automation(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """Application code with neither Dependabot nor Renovate configured, or with CI that runs no
    security scanner (CodeQL, Trivy, Semgrep, pip-audit, npm audit, govulncheck...)."""
    if not view.has("application-code"):
        return
    missing = []
    if not (view.has("dependency-automation") or any(_UPDATE_BOT.match(p) for p in view.paths)):
        missing.append("no Dependabot or Renovate configuration")
    if view.has("ci") and not (
        view.has("ci-security") or "ci-security" in gates_run_through_scripts(view)
    ):
        missing.append("CI runs no security scanner")
    if missing:
        yield RepoHit(text=" and ".join(missing), detail="; ".join(missing))
