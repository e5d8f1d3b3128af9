"""Is there CI, and does it gate on tests, lint and type checks? Read from GitHub Actions workflows
(parsed YAML: every step's `run`), GitLab CI, CircleCI and Jenkinsfiles (their text)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.yaml_nodes import (
    YamlDocumentError,
    documents,
    get,
    items,
    scalar,
    sequence,
)
from app.engine.model import Fact, ParseProblem

_GATES = {
    "ci-tests": re.compile(
        r"\b(pytest|tox|nox|unittest|npm\s+(run\s+)?test|yarn\s+test|pnpm\s+(run\s+)?test|jest|vitest|"
        r"mocha|go\s+test|mvn\b[^\n]*\b(test|verify|package|install)|gradlew?\b[^\n]*\b(test|check|build)|"
        r"cargo\s+test|make\s+(test|check)|bin/test)"
    ),
    "ci-lint": re.compile(
        r"\b(ruff|flake8|pylint|black\s+--check|eslint|npm\s+run\s+lint|yarn\s+lint|pnpm\s+(run\s+)?lint|"
        r"golangci-lint|go\s+vet|staticcheck|checkstyle|spotless|ktlint|pre-commit\s+run|make\s+lint|biome)"
    ),
    "ci-typecheck": re.compile(
        r"\b(mypy|pyright|pytype|tsc\b|make\s+(typecheck|type-check|types)|"
        r"npm\s+run\s+(typecheck|type-check|build)|vue-tsc|go\s+(build|vet|test)|"
        r"mvn\b|gradlew?\b|javac)"
    ),
}
_CI_FILES = re.compile(
    r"(^|/)(\.gitlab-ci\.ya?ml|Jenkinsfile|\.circleci/config\.ya?ml|azure-pipelines\.ya?ml|"
    r"bitbucket-pipelines\.ya?ml|\.travis\.ya?ml)$"
)
# Scripts that CI commonly delegates to: their gate commands count (only once CI exists).
_CI_SCRIPTS = re.compile(
    r"(^|/)(\.ci/[^/]+|ci/[\w.-]+\.sh|scripts/ci[\w.-]*|Makefile|tox\.ini|noxfile\.py|justfile|"
    r"\.pre-commit-config\.ya?ml|"
    r"Taskfile\.ya?ml)$"
)
_USES_GATES = {  # well-known actions that are themselves gates
    "ci-lint": re.compile(
        r"(golangci/golangci-lint-action|super-linter|ruff-action|pre-commit/action)"
    ),
}


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


@file_detector("ci_steps")
def ci_steps(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact | ParseProblem]:
    if ctx.language == "workflow":
        try:
            gating_scripts = _workflow_scripts(ctx.text)
        except YamlDocumentError as exc:
            yield ParseProblem("yaml", str(exc))
            return
        if gating_scripts is None:
            return
        scripts = gating_scripts
        yield Fact("ci", "GitHub Actions", 1)
    elif _CI_FILES.search(ctx.path):
        scripts = [ctx.text]
        yield Fact("ci", ctx.path.rsplit("/", 1)[-1], 1)
    elif _CI_SCRIPTS.search(ctx.path):
        scripts = [ctx.text]
    else:
        return
    joined = "\n".join(scripts)
    for kind, pattern in _GATES.items():
        if pattern.search(joined) or (kind in _USES_GATES and _USES_GATES[kind].search(joined)):
            yield Fact(kind, "", None)


@repo_detector("ci_gates")
def ci_gates(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    if not view.has("application-code"):
        return
    if not view.has("ci"):
        yield RepoHit(text="no CI", detail="no CI workflow runs on pushes or pull requests")
        return
    names = {"ci-tests": "tests", "ci-lint": "lint", "ci-typecheck": "type checks"}
    if not view.has("typed-language-code"):
        del names["ci-typecheck"]  # plain JavaScript has no type checker to ask for
    missing = [label for kind, label in names.items() if not view.has(kind)]
    if missing:
        path = view.where("ci")[0][0]
        yield RepoHit(
            path=path,
            text="ci without " + ",".join(missing),
            detail="CI does not run " + ", ".join(missing),
        )
