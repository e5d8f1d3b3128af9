"""The commands of a CI configuration that run on pushes and pull requests, per CI system.

GitHub Actions workflows gate only with a push / pull-request trigger. Woodpecker and Drone
steps (and whole pipelines) can be limited to events (`when: {event: tag}`), GitLab jobs to refs
(`only: [schedules]`), Bitbucket pipelines to custom runs and tags, Azure pipelines switched off
(`trigger: none` with `pr: none`): such commands are not gates. The other systems run on every
push unless the CI server's settings (which we cannot see) say otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.engine.detectors.yaml_nodes import documents, get, items, scalar, sequence

# The CI systems, by their configuration file (the path relative to the repository).
_SYSTEMS = (
    ("Woodpecker CI", re.compile(r"^\.woodpecker(\.ya?ml|/[^/]+\.ya?ml)$")),
    ("Drone CI", re.compile(r"^\.drone\.ya?ml$")),
    ("GitLab CI", re.compile(r"(^|/)\.gitlab-ci\.ya?ml$")),
    ("CircleCI", re.compile(r"^\.circleci/config\.ya?ml$")),
    (
        "Azure Pipelines",
        re.compile(r"(^|/)azure-pipelines[\w.-]*\.ya?ml$|^\.azure-pipelines/[^/]+\.ya?ml$"),
    ),
    ("Buildkite", re.compile(r"^\.buildkite/[^/]*pipeline[^/]*\.ya?ml$")),
    ("Bitbucket Pipelines", re.compile(r"^bitbucket-pipelines\.ya?ml$")),
    ("Travis CI", re.compile(r"^\.travis\.ya?ml$")),
    ("Cirrus CI", re.compile(r"^\.cirrus\.ya?ml$")),
    ("AppVeyor", re.compile(r"^\.?appveyor\.ya?ml$")),
    ("Jenkins", re.compile(r"(^|/)Jenkinsfile$")),
)
# Files that CI configurations call into: their commands count once CI exists.
HELPERS = re.compile(
    r"(^|/)(\.ci/[^/]+|ci/[\w.-]+\.sh|scripts/ci[\w.-]*|Makefile|tox\.ini|noxfile\.py|justfile|"
    r"\.pre-commit-config\.ya?ml|Taskfile\.ya?ml)$"
    # composite actions (`uses: ./.github/actions/setup`) and GitLab's included job files
    r"|^\.github/actions/.+/action\.ya?ml$|^\.gitlab/.+\.ya?ml$"
)

# Keys whose values are shell commands, in the systems above.
_COMMAND_KEYS = frozenset(
    {
        "run",
        "script",
        "before_script",
        "after_script",
        "commands",
        "command",
        "bash",
        "pwsh",
        "powershell",
        "sh",
        "cmd",
        "install",
        "before_install",
        "build_script",
        "test_script",
    }
)
_CHANGE_EVENTS = {"push", "pull_request", "pull_request_target", "merge_request", "pr"}
_NOT_ON_CHANGE_REFS = {"tags", "schedules", "triggers", "web", "api", "pipelines", "chat"}


def system_of(path: str) -> str | None:
    """The CI system whose configuration `path` is, or None."""
    if not path.endswith(_SYSTEM_SUFFIXES):
        return None  # every pattern above ends so: spares eleven searches for most files
    return next((name for name, rx in _SYSTEMS if rx.search(path)), None)


_SYSTEM_SUFFIXES = (".yml", ".yaml", "Jenkinsfile")


def _names(node: Node | None) -> set[str]:
    if scalar(node) is not None:
        return {str(scalar(node))}
    return {str(scalar(item)) for item in sequence(node) if scalar(item) is not None}


def _event_filter_allows_changes(item: Node) -> bool:
    """A Woodpecker/Drone `when`/`trigger` condition: does it let push or pull-request events in?"""
    event = get(item, "event")
    if event is None:
        return True
    if isinstance(event, MappingNode):
        include = get(event, "include")
        if include is not None and not _names(include) & _CHANGE_EVENTS:
            return False
        return not {"push", "pull_request"} <= _names(get(event, "exclude"))
    return bool(_names(event) & _CHANGE_EVENTS)


def _runs_on_changes(node: MappingNode, system: str) -> bool:
    """False when this pipeline, step or job is limited to events other than pushes and pull
    requests (tags, schedules, manual runs)."""
    if system in {"Woodpecker CI", "Drone CI"}:
        for key in ("when", "trigger"):
            condition = get(node, key)
            if condition is None:
                continue
            conditions = sequence(condition) or [condition]
            if not any(_event_filter_allows_changes(c) for c in conditions):
                return False
    if system == "GitLab CI":
        only = get(node, "only")
        refs = _names(get(only, "refs")) if isinstance(only, MappingNode) else _names(only)
        if refs and refs <= _NOT_ON_CHANGE_REFS:
            return False
    return True


def _strings(node: Node | None) -> list[str]:
    """Every scalar string below `node`."""
    if isinstance(node, ScalarNode):
        return [str(node.value)]
    if isinstance(node, SequenceNode):
        return [s for child in node.value for s in _strings(child)]
    if isinstance(node, MappingNode):
        return [s for _, value in node.value for s in _strings(value)]
    return []


def _commands(node: Node | None, system: str, out: list[str]) -> None:
    if isinstance(node, SequenceNode):
        for child in node.value:
            _commands(child, system, out)
        return
    if not isinstance(node, MappingNode) or not _runs_on_changes(node, system):
        return
    for key, _, value in items(node):
        if system == "Bitbucket Pipelines" and key in {"custom", "tags"}:
            continue
        if key in _COMMAND_KEYS or key.endswith("_script"):
            out.extend(_strings(value))
        else:
            _commands(value, system, out)


def _azure_switched_off(doc: Any) -> bool:
    return scalar(get(doc, "trigger")) == "none" and scalar(get(doc, "pr")) == "none"


def pipeline_commands(system: str, text: str) -> list[str] | None:
    """The commands a CI configuration runs on pushes and pull requests, or None when nothing in
    it runs on them. YamlDocumentError when a YAML configuration does not parse."""
    if system == "Jenkins":
        return [text]  # a Groovy pipeline: its `sh` steps are searched as text
    out: list[str] = []
    runs = False
    for doc in documents(text):
        if system == "Azure Pipelines" and _azure_switched_off(doc):
            continue
        if isinstance(doc, MappingNode) and not _runs_on_changes(doc, system):
            continue
        runs = True
        _commands(doc, system, out)
    return out if runs else None


def helper_commands(path: str, text: str) -> list[str]:
    """The commands of a file CI calls into: a composite action's steps (and the actions they
    use), a GitLab job file's scripts; the whole text of a Makefile, tox.ini, justfile..."""
    if not path.endswith((".yml", ".yaml")) or not path.startswith((".github/", ".gitlab/")):
        return [text]
    out: list[str] = []
    for doc in documents(text):
        _commands(doc, "helper", out)
        for step in sequence(get(get(doc, "runs"), "steps")):
            uses = scalar(get(step, "uses"))
            if uses:
                out.append(f"uses: {uses}")
    return out
