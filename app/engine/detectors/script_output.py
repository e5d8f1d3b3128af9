"""A program's output is not logging: `console.log` in a file that a package script runs as a
program (`"bundle": "node bundle.cjs"`, `"seed": "tsx ./seed.ts"`) prints for whoever runs it."""

from __future__ import annotations

from app.engine.detectors import RepoView, hit_resolver
from app.engine.model import Hit


@hit_resolver("OBS005")
def run_by_a_package_script(path: str, hit: Hit, view: RepoView) -> bool:
    """Withdraws a print-for-logging hit in a file that a package.json script runs directly."""
    return any(fact.value == path for _, fact in view.where("package-script-runs-program"))
