"""Run a peer linter and stopship on the same tree and line up what each reports.

A peer's finding is in a *shared class* when its code maps to one of our rules (hadolint DL3007 ->
base-image-not-pinned). For every shared-class finding stopship must report one of the mapped rules
on the same file, on the same line or within `tolerance` lines (None: anywhere in the file, for
rules we deliberately report once per file). What stopship deliberately does not report is listed
in an explicit allow-list of `Difference`s, each with its reason; an allow-list entry that no
longer matches anything fails too, so the list cannot rot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app.checkout.audit_local import audit_checkout
from app.engine.model import Finding

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class PeerFinding:
    tool: str
    code: str
    path: str  # relative to the audited tree
    line: int  # 1-based
    text: str = ""


@dataclass(frozen=True)
class Shared:
    """A peer code in a class stopship also checks: the rules that cover it and how close."""

    rules: tuple[str, ...]
    tolerance: int | None = 0


@dataclass(frozen=True)
class Difference:
    """A peer finding stopship deliberately does not report (`line` None: every line)."""

    tree: str
    code: str
    path: str
    line: int | None
    reason: str

    def covers(self, tree: str, finding: PeerFinding) -> bool:
        return (
            self.tree == tree
            and self.code == finding.code
            and self.path == finding.path
            and (self.line is None or self.line == finding.line)
        )


@dataclass
class Comparison:
    tree: str
    shared: list[PeerFinding]
    matched: list[PeerFinding]
    allowed: list[tuple[PeerFinding, Difference]]
    missed: list[PeerFinding]


def tool(name: str) -> Path:
    """The peer's executable, installed beside this Python by the `test` extra."""
    path = Path(sys.executable).with_name(name)
    assert path.is_file(), f"{name} is a test dependency (pip install -e '.[test]')"
    return path


def _run(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    # linters exit non-zero when they find something; a crash prints no JSON
    if not done.stdout.strip().startswith(("[", "{")):
        raise AssertionError(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def hadolint(tree: Path) -> list[PeerFinding]:
    files = sorted(str(p.relative_to(tree)) for p in _dockerfiles(tree))
    if not files:
        return []
    out = json.loads(_run([str(tool("hadolint")), "--no-fail", "-f", "json", *files], tree))
    return [PeerFinding("hadolint", d["code"], d["file"], d["line"], d["message"]) for d in out]


def _dockerfiles(tree: Path) -> Iterable[Path]:
    for path in tree.rglob("*"):
        name = path.name.lower()
        if path.is_file() and (
            name == "dockerfile" or name.endswith(".dockerfile") or name.startswith("dockerfile.")
        ):
            yield path


def squawk(tree: Path) -> list[PeerFinding]:
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.sql"))
    if not files:
        return []
    out = json.loads(_run([str(tool("squawk")), "--reporter", "json", *files], tree))
    # squawk's lines are 0-based
    return [
        PeerFinding("squawk", d["rule_name"], d["file"], d["line"] + 1, d["message"]) for d in out
    ]


def bandit(tree: Path) -> list[PeerFinding]:
    out = json.loads(_run([str(tool("bandit")), "-q", "-f", "json", "-r", "."], tree))
    assert not out["errors"], out["errors"]
    return [
        PeerFinding(
            "bandit",
            r["test_id"],
            r["filename"].removeprefix("./"),
            r["line_number"],
            r["issue_text"],
        )
        for r in out["results"]
    ]


@cache
def stopship(tree: Path) -> tuple[Finding, ...]:
    """stopship's findings on a tree (audited once per session, shared by the three peers)."""
    report, _ = audit_checkout(tree, use_cache=False, jobs=1)
    return tuple(report.findings)


def label(tree: Path) -> str:
    return str(tree.relative_to(ROOT / "tests"))


def trees(pattern: str, fixtures: str) -> list[Path]:
    """The corpus services that hold files matching `pattern`, then the peer's fixture tree."""
    services = [p for p in sorted(CORPUS.glob("*-*")) if p.is_dir() and any(p.rglob(pattern))]
    return [*services, FIXTURES / fixtures]


@dataclass
class Peer:
    """One peer tool: how to run it, which of its codes are shared classes, what stopship
    deliberately does differently."""

    name: str
    run: Callable[[Path], list[PeerFinding]]
    shared: dict[str, Shared]
    differences: list[Difference]
    _results: dict[Path, Comparison] = field(default_factory=dict)

    def compare(self, tree: Path) -> Comparison:
        if tree not in self._results:
            self._results[tree] = compare(
                label(tree), self.run(tree), list(stopship(tree)), self.shared, self.differences
            )
        return self._results[tree]

    def unused_differences(self, trees: list[Path]) -> list[Difference]:
        used = {d for tree in trees for _, d in self.compare(tree).allowed}
        return [d for d in self.differences if d not in used]


def compare(
    tree: str,
    peer: list[PeerFinding],
    ours: list[Finding],
    shared: dict[str, Shared],
    differences: list[Difference],
) -> Comparison:
    """Which shared-class peer findings stopship matches, which are allowed differences, and
    which are misses."""
    result = Comparison(tree, [], [], [], [])
    for finding in peer:
        mapping = shared.get(finding.code)
        if mapping is None:
            continue
        result.shared.append(finding)
        allowed = next((d for d in differences if d.covers(tree, finding)), None)
        if allowed is not None:
            result.allowed.append((finding, allowed))
        elif any(_covers(f, finding, mapping) for f in ours):
            result.matched.append(finding)
        else:
            result.missed.append(finding)
    return result


def _covers(ours: Finding, peer: PeerFinding, mapping: Shared) -> bool:
    if ours.rule not in mapping.rules or ours.path != peer.path:
        return False
    if mapping.tolerance is None:
        return True
    return ours.line is not None and abs(ours.line - peer.line) <= mapping.tolerance


def describe(comparisons: list[Comparison], name: str) -> str:
    """A small table: per tree, shared-class findings, matched, allowed, missed."""
    lines = [f"{name}: tree | shared-class findings | matched | deliberate differences | missed"]
    for c in comparisons:
        lines.append(
            f"  {c.tree} | {len(c.shared)} | {len(c.matched)} | {len(c.allowed)} | {len(c.missed)}"
        )
    total = [
        sum(len(getattr(c, k)) for c in comparisons)
        for k in ("shared", "matched", "allowed", "missed")
    ]
    lines.append(f"  total | {total[0]} | {total[1]} | {total[2]} | {total[3]}")
    for c in comparisons:
        for f in c.missed:
            lines.append(f"  MISSED {c.tree}/{f.path}:{f.line} {f.code} {f.text[:80]}")
        for f, d in c.allowed:
            lines.append(f"  allowed {c.tree}/{f.path}:{f.line} {f.code}: {d.reason}")
    return "\n".join(lines)


PeerTests = tuple[Callable[[Path], None], Callable[[], None], Callable[[], None]]


def peer_tests(peer: Peer, trees: list[Path]) -> PeerTests:
    """The three tests every peer gets; a test module binds them to `test_*` names:
    stopship finds what the peer finds on each tree (but the documented differences), every
    documented difference still occurs, and the fixtures exercise every shared rule class (the
    per-tree table is printed with `pytest -s`)."""
    import pytest

    @pytest.mark.parametrize("tree", trees, ids=label)
    def finds_what_the_peer_finds(tree: Path) -> None:
        result = peer.compare(tree)
        assert not result.missed, describe([result], peer.name)

    def every_deliberate_difference_still_occurs() -> None:
        assert not peer.unused_differences(trees)

    def comparison_summary() -> None:
        results = [peer.compare(tree) for tree in trees]
        print("\n" + describe(results, peer.name))
        exercised = {f.code for r in results for f in r.matched}
        assert exercised == set(peer.shared), f"not exercised: {set(peer.shared) - exercised}"

    return finds_what_the_peer_finds, every_deliberate_difference_still_occurs, comparison_summary
