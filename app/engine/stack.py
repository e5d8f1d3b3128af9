"""Stack detection: languages from paths; frameworks, databases, infrastructure, CI from facts."""

from __future__ import annotations

from collections import Counter

from app.engine.detectors import RepoView
from app.engine.paths import language_of, roles_of
from app.engine.report import Stack

_LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "tsx": "TypeScript",
    "go": "Go",
    "java": "Java",
    "kotlin": "Kotlin",
}
# Languages no rule reads: an audit of a repository written in them says so, so it never looks
# complete when it is not.
_NOT_ANALYSED = {
    ".rs": "Rust",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".fs": "F#",
    ".c": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".swift": "Swift",
    ".scala": "Scala",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".erl": "Erlang",
    ".dart": "Dart",
    ".hs": "Haskell",
    ".clj": "Clojure",
    ".lua": "Lua",
    ".pl": "Perl",
    ".r": "R",
    ".m": "Objective-C",
    ".zig": "Zig",
}


def _infra_from_paths(paths: list[str]) -> tuple[set[str], set[str]]:
    infra: set[str] = set()
    ci: set[str] = set()
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        kind = language_of(path)
        if kind == "dockerfile":
            infra.add("Docker")
        elif kind == "compose":
            infra.add("Docker Compose")
        elif kind == "workflow":
            ci.add("GitHub Actions")
        elif kind == "terraform":
            infra.add("Terraform")
        if name == "Chart.yaml":
            infra.add("Helm")
        elif name == ".gitlab-ci.yml":
            ci.add("GitLab CI")
        elif name == "Jenkinsfile":
            ci.add("Jenkins")
        elif path.startswith(".circleci/"):
            ci.add("CircleCI")
    return infra, ci


def detect_stack(view: RepoView) -> Stack:
    """Languages by share of production files; the rest from facts of kind framework, database,
    infrastructure and ci (their `value` is the display name)."""
    counts: Counter[str] = Counter()
    unread: set[str] = set()
    for path in view.paths:
        kind = language_of(path)
        if kind is not None:
            name = _LANGUAGE_NAMES.get(kind)
        else:
            dot = path.rfind(".")
            name = _NOT_ANALYSED.get(path[dot:].lower()) if dot > path.rfind("/") else None
            if name:
                unread.add(name)
        if name and "test" not in roles_of(path):
            counts[name] += 1
    infra, ci = _infra_from_paths(view.paths)

    def values(kind: str) -> set[str]:
        return {fact.value for _, fact in view.where(kind) if fact.value}

    return Stack(
        languages=tuple(name for name, _ in counts.most_common()),
        not_analysed=tuple(name for name, _ in counts.most_common() if name in unread),
        frameworks=tuple(sorted(values("framework"))),
        databases=tuple(sorted(values("database"))),
        infrastructure=tuple(sorted(infra | values("infrastructure"))),
        ci=tuple(sorted(ci | values("ci"))),
    )
