"""Is there CI, and does it gate on tests, lint and type checks? Read from GitHub Actions workflows
(parsed YAML: every step's `run`), the other CI systems' configurations (ci_configs), the files
they call into (Makefile, tox.ini, composite actions), and, through what CI commands invoke, the
package.json scripts and shell scripts that run the gates (`npm run ci`, `./scripts/test.sh`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.ci_commands import gates_of, invocations, runs_build
from app.engine.detectors.ci_configs import (
    HELPERS,
    helper_commands,
    pipeline_commands,
    system_of,
)
from app.engine.detectors.ci_scripts import gates_run_through_scripts
from app.engine.detectors.yaml_nodes import (
    YamlDocumentError,
    documents,
    get,
    items,
    scalar,
    sequence,
)
from app.engine.model import Fact, ParseProblem

GATE_KINDS = ("ci-tests", "ci-lint", "ci-typecheck")
_GATING_TRIGGERS = {"push", "pull_request", "pull_request_target", "merge_group", "workflow_call"}


def _triggers(doc: Any) -> set[str]:
    """The events a workflow runs on (`on:` as a string, a list or a mapping). YAML 1.1 reads a
    bare `on` key as the boolean true, so both spellings are looked up."""
    node = get(doc, "on") or get(doc, "true") or get(doc, "True")
    if scalar(node):
        return {str(scalar(node))}
    names = {str(scalar(item)) for item in sequence(node)}
    return names | {name for name, _, _ in items(node)}


def _workflow_scripts(text: str) -> list[str] | None:
    """Every step's `run` (and `uses`), or None when no workflow here runs on pushes or pull
    requests (a scheduled or manual workflow is not a gate)."""
    scripts: list[str] = []
    gating = False
    for doc in documents(text):
        if not _triggers(doc) & _GATING_TRIGGERS:
            continue
        gating = True
        for _, _, job in items(get(doc, "jobs")):
            for step in sequence(get(job, "steps")):
                run = scalar(get(step, "run"))
                uses = scalar(get(step, "uses"))
                if run:
                    scripts.append(run)
                if uses:
                    scripts.append(f"uses: {uses}")
    return scripts if gating else None


def _command_facts(scripts: list[str]) -> Iterable[Fact]:
    """The gates these commands run, and the package scripts and script files they invoke."""
    for kind in sorted(gates_of(scripts)):
        yield Fact(kind, "", None)
    if runs_build(scripts):
        yield Fact("ci-runs-build")
    for script in scripts:
        if script.startswith("uses: "):
            continue
        names, files = invocations(script)
        for name in sorted(names):
            yield Fact("ci-runs-package-script", name)
        for path in sorted(files):
            yield Fact("ci-runs-file", path)


@file_detector("ci_steps")
def ci_steps(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact | ParseProblem]:
    system = "GitHub Actions" if ctx.language == "workflow" else system_of(ctx.path)
    try:
        if ctx.language == "workflow":
            scripts = _workflow_scripts(ctx.text)
        elif system is not None:
            scripts = pipeline_commands(system, ctx.text)
        elif HELPERS.search(ctx.path):
            scripts = helper_commands(ctx.path, ctx.text)
        else:
            return
    except YamlDocumentError as exc:
        yield ParseProblem("yaml", str(exc))
        return
    if scripts is None:
        return  # a CI configuration that never runs on pushes or pull requests
    if system is not None:
        yield Fact("ci", system, 1)
    yield from _command_facts(scripts)


def ci_gates_present(view: RepoView) -> set[str]:
    """The gate kinds that CI runs, directly or through the scripts it invokes."""
    direct = {kind for kind in GATE_KINDS if view.has(kind)}
    return direct | gates_run_through_scripts(view)


_LABELS = {"ci-tests": "tests", "ci-lint": "lint", "ci-typecheck": "type checks"}


@repo_detector("ci_gates")
def ci_gates(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """No CI at all (reported by the rule that asks for `ci-tests`), or CI without the gates in
    `options["gates"]`."""
    if not view.has("application-code"):
        return
    wanted = list(options.get("gates", GATE_KINDS))
    if not view.has("ci"):
        if "ci-tests" in wanted:
            yield RepoHit(text="no CI", detail="no CI workflow runs on pushes or pull requests")
        return
    if not view.has("typed-language-code") and "ci-typecheck" in wanted:
        wanted.remove("ci-typecheck")  # plain JavaScript has no type checker to ask for
    present = ci_gates_present(view)
    missing = [_LABELS[kind] for kind in wanted if kind not in present]
    if missing:
        path = view.where("ci")[0][0]
        yield RepoHit(
            path=path,
            text="ci without " + ",".join(missing),
            detail="CI does not run " + ", ".join(missing),
        )
