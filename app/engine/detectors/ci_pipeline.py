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
        r"\b(mypy|pyright|pytype|tsc\b|npm\s+run\s+(typecheck|type-check|build)|vue-tsc|go\s+(build|vet|test)|"
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
    r"Taskfile\.ya?ml)$"
)
_USES_GATES = {  # well-known actions that are themselves gates
    "ci-lint": re.compile(
        r"(golangci/golangci-lint-action|super-linter|ruff-action|pre-commit/action)"
    ),
}


def _workflow_scripts(text: str) -> list[str]:
    scripts: list[str] = []
    for doc in documents(text):
        for _, _, job in items(get(doc, "jobs")):
            for step in sequence(get(job, "steps")):
                run = scalar(get(step, "run"))
                uses = scalar(get(step, "uses"))
                if run:
                    scripts.append(run)
                if uses:
                    scripts.append(f"uses: {uses}")
    return scripts


@file_detector("ci_steps")
def ci_steps(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact | ParseProblem]:
    if ctx.language == "workflow":
        try:
            scripts = _workflow_scripts(ctx.text)
        except YamlDocumentError as exc:
            yield ParseProblem("yaml", str(exc))
            return
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
    missing = [label for kind, label in names.items() if not view.has(kind)]
    if missing:
        path = view.where("ci")[0][0]
        yield RepoHit(
            path=path,
            text="ci without " + ",".join(missing),
            detail="CI does not run " + ", ".join(missing),
        )
