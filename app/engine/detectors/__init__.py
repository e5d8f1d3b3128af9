"""Named Python detectors, for what a regex or an ast-grep pattern cannot express.

A file detector takes a FileContext and the rule's `options` and yields Hits (the engine fills in
the rule id) or Facts. A repo detector takes a RepoView and yields RepoHits. A hit resolver
withdraws a file detector's hit when other files' facts make it moot. Modules in this package
register themselves with the decorators below and are imported on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.engine.context import FileContext
from app.engine.model import Fact, Hit, ParseProblem
from app.engine.release import NO_BASELINE, ReleaseBaseline
from app.engine.screen import Hint

FileDetector = Callable[[FileContext, dict[str, Any]], Iterable[Hit | Fact | ParseProblem]]


@dataclass(frozen=True)
class RepoHit:
    """A repository-level finding: `path`/`line` None when it is about the repository as a whole."""

    path: str | None = None
    line: int | None = None
    text: str = ""
    detail: str = ""


@dataclass
class RepoView:
    """What repository-level rules see: every path and every fact, never file contents, and the
    release baseline (`release.applied(path)`: a migration already run in production)."""

    paths: list[str]
    facts: dict[str, list[tuple[str, Fact]]] = field(default_factory=dict)
    release: ReleaseBaseline = NO_BASELINE

    def has(self, kind: str) -> bool:
        return bool(self.facts.get(kind))

    def where(self, kind: str) -> list[tuple[str, Fact]]:
        return self.facts.get(kind, [])


RepoDetector = Callable[[RepoView, dict[str, Any]], Iterable[RepoHit]]
# Whether a file detector's hit in `path` is resolved by what other files say (a check
# constraint validated in an earlier migration); the per-file analysis cannot see them.
HitResolver = Callable[[str, Hit, RepoView], bool]

# A node judge looks again at a node an ast-grep rule matched: it answers the finding's detail
# (keep it) or None (drop it), given the file and the matcher's `options`.
NodeJudge = Callable[[FileContext, Any, dict[str, Any]], str | None]

FILE_DETECTORS: dict[str, FileDetector] = {}
NODE_JUDGES: dict[str, NodeJudge] = {}
REPO_DETECTORS: dict[str, RepoDetector] = {}
HIT_RESOLVERS: dict[str, HitResolver] = {}


# A hint whose absence from a file means the detector finds nothing there (it returns at once):
# the analyzer then skips it on the screen's word, without calling it.
FILE_DETECTOR_HINTS: dict[str, Hint] = {}


def file_detector(name: str, needs: Hint | None = None) -> Callable[[FileDetector], FileDetector]:
    def register(fn: FileDetector) -> FileDetector:
        if name in FILE_DETECTORS:
            raise RuntimeError(f"file detector {name!r} registered twice")
        FILE_DETECTORS[name] = fn
        if needs is not None:
            FILE_DETECTOR_HINTS[name] = needs
        return fn

    return register


def repo_detector(name: str) -> Callable[[RepoDetector], RepoDetector]:
    def register(fn: RepoDetector) -> RepoDetector:
        if name in REPO_DETECTORS:
            raise RuntimeError(f"repo detector {name!r} registered twice")
        REPO_DETECTORS[name] = fn
        return fn

    return register


def node_judge(name: str) -> Callable[[NodeJudge], NodeJudge]:
    def register(fn: NodeJudge) -> NodeJudge:
        if name in NODE_JUDGES:
            raise RuntimeError(f"node judge {name!r} registered twice")
        NODE_JUDGES[name] = fn
        return fn

    return register


def hit_resolver(detector: str) -> Callable[[HitResolver], HitResolver]:
    """Register the repository-level resolution of the hits of file detector `detector` (or,
    for a rule matched by patterns, of the rule with that id)."""

    def register(fn: HitResolver) -> HitResolver:
        if detector in HIT_RESOLVERS:
            raise RuntimeError(f"hit resolver for {detector!r} registered twice")
        HIT_RESOLVERS[detector] = fn
        return fn

    return register


def resolvers_by_rule(rules: Iterable[Any]) -> dict[str, HitResolver]:
    """The hit resolver of each file rule that has one: registered under its detector's name,
    or under the rule's id."""
    out: dict[str, HitResolver] = {}
    for rule in rules:
        detector = rule.matcher.detector
        resolver = HIT_RESOLVERS.get(detector) if detector else HIT_RESOLVERS.get(rule.id)
        if resolver is not None:
            out[rule.id] = resolver
    return out


def _import_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_all()
