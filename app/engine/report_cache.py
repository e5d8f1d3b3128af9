"""A Report kept file by file, for the App's pushes: `ReportState.updated()` takes the previous
commit's state and redoes only the files whose result changed, so judging a push costs what it
changed, not the size of the repository.

The promise is equality: `ReportState.build(ruleset, config, results).report(...)`, and any
chain of `updated()` calls that ends with the same results, gives the Report that
`build_report(ruleset, config, AuditInput(paths=sorted(results), results=results, ...))` gives
(tests/engine/test_report_cache.py compares them). It holds because everything build_report does
per file depends on that file alone, on the config, and on what the hit resolvers read from the
repository view; everything else is counted:

- per file, a `_Piece`: the findings its hits make (fingerprints count occurrences per path, so
  they do not depend on other files), the inline suppression covering each, the rules that fired,
  and what its hit resolvers read from the view (recorded, so a change of those facts redoes it);
- open findings kept sorted as build_report sorts them, in one list per (stop-ship, severity,
  category), each sorted by path, line and hit order: a changed file replaces its own slice;
- per rule and stop-ship, how many open findings there are: scores and quick wins come from the
  counts (app/engine/scoring.py `*_of`);
- the repository view (paths, facts per kind) changed in place of the files that changed, and
  repository rules and stack detection re-run only when what they read changed;
- waivers and the suppression policy are applied when the Report is made: they touch only the
  findings they name or the few inline-suppressed ones.

Findings are shared between the reports of successive states: nothing may modify one (the
report's suppressed findings are copies that carry `suppressed_by`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any, TypeVar

from app.engine.audit import (
    SuppressionPolicy,
    _facts_view,
    _FindingFactory,
    _repo_hits,
    assemble_report,
    praised,
)
from app.engine.config import StopshipConfig
from app.engine.detectors import HitResolver, RepoHit, RepoView, resolvers_by_rule
from app.engine.model import Fact, FileResult, Finding, Suppression, Waiver
from app.engine.paths import matches_any
from app.engine.release import NO_BASELINE, MigrationHistory, ReleaseBaseline, history_of
from app.engine.report import Report, ScanStats, Stack
from app.engine.ruleset import Rule, Ruleset
from app.engine.scoring import (
    Group,
    category_scores_of,
    deductions_of,
    projected_score_of,
    quick_wins_of,
    wins_within,
)
from app.engine.stack import detect_stack
from app.engine.suppressions import suppression_for

Bucket = tuple[bool, int, str]  # build_report's sort key before path and line
T = TypeVar("T")
_LAST_LINE = 1 << 62


def _bucket(f: Finding) -> Bucket:
    return (not f.stop_ship, -f.severity.rank, f.category)


def _place(f: Finding) -> tuple[str, int]:
    return (f.path or "", f.line or 0)


@dataclass(frozen=True)
class _Reads:
    """What a computation read from the repository view."""

    paths: bool = False
    kinds: frozenset[str] = frozenset()
    all_facts: bool = False

    def stale(self, paths_changed: bool, kinds_changed: set[str]) -> bool:
        if paths_changed and self.paths:
            return True
        return bool(kinds_changed) and (self.all_facts or not self.kinds.isdisjoint(kinds_changed))


class _RecordingView(RepoView):
    """A RepoView that notes what is read through it (detectors read `paths`, `has`, `where`)."""

    def __init__(self, view: RepoView) -> None:  # no dataclass __init__: nothing is copied
        self._view = view
        self._paths = False
        self._all = False
        self._kinds: set[str] = set()

    @property
    def paths(self) -> list[str]:
        self._paths = True
        return self._view.paths

    @paths.setter
    def paths(self, value: list[str]) -> None:
        raise AttributeError("the view is read-only")

    @property
    def facts(self) -> dict[str, list[tuple[str, Fact]]]:
        self._all = True
        return self._view.facts

    @facts.setter
    def facts(self, value: dict[str, list[tuple[str, Fact]]]) -> None:
        raise AttributeError("the view is read-only")

    @property
    def release(self) -> ReleaseBaseline:
        return self._view.release

    @release.setter
    def release(self, value: ReleaseBaseline) -> None:
        raise AttributeError("the view is read-only")

    def has(self, kind: str) -> bool:
        self._kinds.add(kind)
        return self._view.has(kind)

    def where(self, kind: str) -> list[tuple[str, Fact]]:
        self._kinds.add(kind)
        return self._view.where(kind)

    def reads(self) -> _Reads:
        return _Reads(self._paths, frozenset(self._kinds), self._all)


def _recorded(view: RepoView, compute: Callable[[RepoView], T]) -> tuple[T, _Reads]:
    recorder = _RecordingView(view)
    return compute(recorder), recorder.reads()


@dataclass(frozen=True)
class _Piece:
    """One file's part of the report under one config: the findings its hits make, in hit order
    and none marked suppressed; the inline suppression that covers each (or None); the open ones
    (no inline suppression) per bucket, sorted by line; the rules that fired; what its hit
    resolvers read from the view (None: no resolver was asked)."""

    findings: tuple[Finding, ...]
    suppression: tuple[Suppression | None, ...]
    open: dict[Bucket, list[Finding]]
    fired: frozenset[str]
    reads: _Reads | None

    def index(self, finding: Finding) -> int:
        return next(i for i, f in enumerate(self.findings) if f is finding)


class _FileFindings(_FindingFactory):
    """build_report's finding factory, one file at a time: occurrences are counted per path, so
    starting each file afresh gives the fingerprints a whole-tree pass gives."""

    def __init__(
        self, ruleset: Ruleset, config: StopshipConfig, release: ReleaseBaseline = NO_BASELINE
    ) -> None:
        super().__init__(ruleset, config, release)
        self.resolvers: dict[str, HitResolver] = resolvers_by_rule(ruleset.file_rules())

    def start_counting(self) -> None:
        """Occurrences counted afresh (for the next file, or repository rule)."""
        self._occurrences.clear()

    def piece(self, path: str, result: FileResult, view: RepoView) -> _Piece:
        """What build_report's loop over `path`'s hits does, before suppression policies and
        waivers (applied when a Report is made)."""
        self.start_counting()
        findings: list[Finding] = []
        suppression: list[Suppression | None] = []
        fired: set[str] = set()
        recorder: _RecordingView | None = None
        for hit in result.hits:
            resolver = self.resolvers.get(hit.rule)
            if resolver is not None:
                recorder = recorder or _RecordingView(view)
                if resolver(path, hit, recorder):
                    continue
            finding = self.make(hit.rule, path, hit.line, hit.text, hit.detail)
            if finding is None:
                continue
            fired.add(hit.rule)
            findings.append(finding)
            suppression.append(suppression_for(hit.rule, hit.line, result.suppressions))
        open_: dict[Bucket, list[Finding]] = defaultdict(list)
        for f, sup in zip(findings, suppression, strict=True):
            if sup is None:
                open_[_bucket(f)].append(f)
        for group in open_.values():
            group.sort(key=_place)
        return _Piece(
            tuple(findings),
            tuple(suppression),
            dict(open_),
            frozenset(fired),
            None if recorder is None else recorder.reads(),
        )


@dataclass(frozen=True)
class _RepoPart:
    """One repository rule's part: how many hits (none: its praise applies), the findings they
    make (build_report's factory counts occurrences per rule, path and text, so a rule's
    findings do not depend on another's), and what it read from the view."""

    hits: int
    findings: tuple[Finding, ...]
    reads: _Reads


@dataclass
class _Counts:
    """Per (rule, stop-ship) the open findings without an inline suppression: one of them and
    how many; per rule, the files (or 1 for a repository rule) it fired in."""

    open: dict[tuple[str, bool], tuple[Finding, int]]
    fired: dict[str, int]

    def copy(self) -> _Counts:
        return _Counts(dict(self.open), dict(self.fired))

    def add(self, findings: Iterable[Finding], fired: Iterable[str], sign: int) -> None:
        for f in findings:
            _count(self.open, f, sign)
        for rule in fired:
            n = self.fired.get(rule, 0) + sign
            if n:
                self.fired[rule] = n
            else:
                del self.fired[rule]


def _open_of(piece: _Piece) -> Iterable[Finding]:
    return chain.from_iterable(piece.open.values())


class ReportState:
    """The report of one set of per-file results under one ruleset and config, kept so that the
    next commit's report is computed from the files that changed. Immutable once made."""

    def __init__(
        self,
        ruleset: Ruleset,
        config: StopshipConfig,
        factory: _FileFindings,
        results: dict[str, FileResult],
        view: RepoView,
        pieces: dict[str, _Piece],
    ) -> None:
        self.ruleset, self.config, self._factory = ruleset, config, factory
        self.results, self.view, self._pieces = results, view, pieces
        # open findings (files' without an inline suppression, and the repository rules'), in
        # build_report's order, one list per bucket
        self._buckets: dict[Bucket, list[Finding]] = {}
        self._counts = _Counts({}, {})
        self._index: dict[str, str] = {}  # fingerprint -> path, of the files' open findings
        self._suppressing: list[str] = []  # sorted paths with inline-suppressed findings
        self._readers: dict[str, set[str]] = {}  # fact kind ("": the paths) -> paths reading it
        self._repo: dict[str, _RepoPart] = {}
        self._repo_index: dict[str, str] = {}  # fingerprint -> repository rule
        self._stack: tuple[Stack, _Reads] | None = None
        self._history: MigrationHistory | None = None

    @property
    def release(self) -> ReleaseBaseline:
        return self._factory.release

    @classmethod
    def build(
        cls,
        ruleset: Ruleset,
        config: StopshipConfig,
        results: Mapping[str, FileResult],
        release: ReleaseBaseline = NO_BASELINE,
    ) -> ReportState:
        """The state of `results` (paths the config ignores are left out, as build_report does)."""
        kept = {p: r for p, r in results.items() if not _ignored(p, config)}
        paths = sorted(kept)
        view = _facts_view(paths, kept, release)
        factory = _FileFindings(ruleset, config, release)
        pieces = {p: factory.piece(p, kept[p], view) for p in paths}
        state = cls(ruleset, config, factory, kept, view, pieces)
        everything: list[Finding] = []
        for path in paths:
            piece = pieces[path]
            state._counts.add(_open_of(piece), piece.fired, 1)
            state._note(path, None, piece)
            everything += [f for f in piece.findings if f.fingerprint in state._index]
        for rule in ruleset.repo_rules():
            if rule.id not in factory.disabled:
                part = state._repo[rule.id] = state._repo_part(rule, view)
                state._counts.add(part.findings, [rule.id] if part.findings else [], 1)
                state._repo_index.update((f.fingerprint, rule.id) for f in part.findings)
                everything += part.findings
        everything.sort(key=lambda f: (_bucket(f), _place(f)))
        buckets: dict[Bucket, list[Finding]] = defaultdict(list)
        for f in everything:
            buckets[_bucket(f)].append(f)
        state._buckets = dict(buckets)
        state._stack = _recorded(view, detect_stack)
        return state

    def _repo_part(self, rule: Rule, view: RepoView) -> _RepoPart:
        hits, reads = _recorded(view, _hits_of(rule))
        self._factory.start_counting()
        made = (self._factory.make(rule.id, h.path, h.line, h.text, h.detail) for h in hits)
        return _RepoPart(len(hits), tuple(f for f in made if f is not None), reads)

    def updated(
        self,
        results: Mapping[str, FileResult],
        candidates: Iterable[str],
        release: ReleaseBaseline | None = None,
    ) -> ReportState:
        """The state of `results` (under `release`, default this state's), from this one: every
        path whose result may differ from this state's (added, removed, changed) must be among
        `candidates`."""
        config = self.config
        changed: dict[str, FileResult | None] = {}
        for path in candidates:
            new = None if _ignored(path, config) else results.get(path)
            if new is not self.results.get(path):
                changed[path] = new
        factory = self._factory
        flipped: set[str] = set()
        if release is not None and release != self.release:
            # files whose findings the new baseline hides or shows are redone, with every
            # repository rule (they are cheap and may read the baseline)
            before = self.release
            flipped = {p for p in self._pieces if before.applied(p) != release.applied(p)}
            factory = _FileFindings(self.ruleset, config, release)
        elif not changed:
            return self
        kept = dict(self.results)
        paths = self.view.paths
        added = [p for p, r in changed.items() if r is not None and p not in kept]
        removed = [p for p, r in changed.items() if r is None and p in kept]
        if added or removed:
            paths = _without(list(paths), removed)
            for path in added:
                paths.insert(bisect_left(paths, path), path)
        facts, kinds_changed = self._facts_after(changed)
        for path, result in changed.items():
            if result is None:
                kept.pop(path, None)
            else:
                kept[path] = result
        view = RepoView(paths=paths, facts=facts, release=factory.release)
        paths_changed = bool(added or removed)
        redo = set(changed) | flipped
        if paths_changed:
            redo |= self._readers.get("", set())
        for kind in kinds_changed:
            redo |= self._readers.get(kind, set())
        if kinds_changed:
            redo |= self._readers.get("*", set())
        state = ReportState(self.ruleset, config, factory, kept, view, dict(self._pieces))
        state._buckets = dict(self._buckets)
        state._counts = self._counts.copy()
        state._index = dict(self._index)
        state._suppressing = self._suppressing
        state._readers = self._readers
        state._repo = dict(self._repo)
        state._repo_index = self._repo_index
        copied: set[Bucket] = set()
        for path in sorted(redo):
            old = self._pieces.get(path)
            result = kept.get(path)
            new_piece = None if result is None else factory.piece(path, result, view)
            state._replace(path, old, new_piece, copied)
        for rule_id, part in self._repo.items():
            if factory is not self._factory or part.reads.stale(paths_changed, kinds_changed):
                state._replace_repo(rule_id, part, view, copied)
        assert self._stack is not None
        stale = self._stack[1].stale(paths_changed, kinds_changed)
        state._stack = _recorded(view, detect_stack) if stale else self._stack
        if not paths_changed and factory is self._factory:
            state._history = self._history
        return state

    def history(self) -> MigrationHistory:
        """How many migrations the release baseline treats as applied (counted once per state)."""
        if self._history is None:
            self._history = history_of(self.view.paths, self.release)
        return self._history

    def _facts_after(
        self, changed: Mapping[str, FileResult | None]
    ) -> tuple[dict[str, list[tuple[str, Fact]]], set[str]]:
        """The view's facts once the changed files' facts replace theirs, and the kinds whose
        list changed (unchanged kinds keep their list)."""
        facts = dict(self.view.facts)
        kinds_changed: set[str] = set()
        for path, result in changed.items():
            before = self.results.get(path)
            old = before.facts if before is not None else []
            new = result.facts if result is not None else []
            if old == new:
                continue
            for kind in {f.kind for f in old} | {f.kind for f in new}:
                entries = facts.get(kind, [])
                lo = bisect_left(entries, path, key=_first)
                hi = bisect_right(entries, path, key=_first)
                mine = [(path, f) for f in new if f.kind == kind]
                if entries[lo:hi] == mine:
                    continue
                entries = entries[:lo] + mine + entries[hi:]
                if entries:
                    facts[kind] = entries
                else:
                    facts.pop(kind, None)
                kinds_changed.add(kind)
        return facts, kinds_changed

    def _replace(
        self, path: str, old: _Piece | None, new: _Piece | None, copied: set[Bucket]
    ) -> None:
        """Swap one file's piece and its share of the sorted lists, counts and indexes."""
        if old is not None:
            self._counts.add(_open_of(old), old.fired, -1)
        if new is None:
            self._pieces.pop(path, None)
        else:
            self._pieces[path] = new
            self._counts.add(_open_of(new), new.fired, 1)
        repo_rules = self._repo
        for key in (old.open.keys() if old else set()) | (new.open.keys() if new else set()):
            entries = self._own(key, copied)
            lo = bisect_left(entries, (path, -1), key=_place)
            hi = bisect_right(entries, (path, _LAST_LINE), key=_place)
            # repository findings at this path stay; the file's come after them by line
            stay = [f for f in entries[lo:hi] if f.rule in repo_rules]
            mine = new.open.get(key, []) if new is not None else []
            merged = sorted(mine + stay, key=lambda f: (f.line or 0, f.rule in repo_rules))
            entries[lo:hi] = merged
            if not entries:
                del self._buckets[key]
        self._note(path, old, new)

    def _replace_repo(
        self, rule_id: str, old: _RepoPart, view: RepoView, copied: set[Bucket]
    ) -> None:
        """Run one repository rule again; when its findings change, swap them in the lists."""
        new = self._repo_part(self.ruleset.by_id[rule_id], view)
        if new.hits == old.hits and new.findings == old.findings:
            self._repo[rule_id] = replace(old, reads=new.reads)
            return
        self._repo[rule_id] = new
        self._counts.add(old.findings, [rule_id] if old.findings else [], -1)
        self._counts.add(new.findings, [rule_id] if new.findings else [], 1)
        self._repo_index = dict(self._repo_index)
        for f in old.findings:
            self._repo_index.pop(f.fingerprint, None)
            entries = self._own(_bucket(f), copied)
            lo = bisect_left(entries, _place(f), key=_place)
            del entries[next(i for i in range(lo, len(entries)) if entries[i] is f)]
            if not entries:
                del self._buckets[_bucket(f)]
        order = self._rule_order()
        for f in new.findings:
            self._repo_index[f.fingerprint] = rule_id
            entries = self._own(_bucket(f), copied)
            lo = bisect_left(entries, _place(f), key=_place)
            hi = bisect_right(entries, _place(f), key=_place)
            # after the files' and the earlier rules' findings of the same place
            later = (i for i in range(lo, hi) if order.get(entries[i].rule, -1) > order[rule_id])
            entries.insert(next(later, hi), f)

    def _rule_order(self) -> dict[str, int]:
        return {rule.id: i for i, rule in enumerate(self.ruleset.repo_rules())}

    def _own(self, key: Bucket, copied: set[Bucket]) -> list[Finding]:
        """This state's own copy of one sorted list (the previous state keeps its own)."""
        if key not in copied:
            copied.add(key)
            self._buckets[key] = list(self._buckets.get(key, ()))
        return self._buckets.setdefault(key, [])

    def _note(self, path: str, old: _Piece | None, new: _Piece | None) -> None:
        """Keep the fingerprint index, the inline-suppressing paths and the resolver readers."""
        if old is not None:
            for f, sup in zip(old.findings, old.suppression, strict=True):
                if sup is None:
                    self._index.pop(f.fingerprint, None)
        if new is not None:
            for f, sup in zip(new.findings, new.suppression, strict=True):
                if sup is None:
                    self._index[f.fingerprint] = path
        was = old is not None and any(s is not None for s in old.suppression)
        now = new is not None and any(s is not None for s in new.suppression)
        if was != now:
            self._suppressing = list(self._suppressing)
            if now:
                self._suppressing.insert(bisect_left(self._suppressing, path), path)
            else:
                self._suppressing.remove(path)
        before = old.reads if old is not None else None
        after = new.reads if new is not None else None
        if before != after:
            self._readers = {k: set(v) for k, v in self._readers.items()}
            for reads, add in ((before, False), (after, True)):
                if reads is None:
                    continue
                keys = set(reads.kinds) | ({""} if reads.paths else set())
                if reads.all_facts:
                    keys.add("*")
                for key in keys:
                    readers = self._readers.setdefault(key, set())
                    if add:
                        readers.add(path)
                    else:
                        readers.discard(path)

    def report(
        self,
        repo: str,
        stats: ScanStats | None = None,
        waivers: Mapping[str, Waiver] | None = None,
        suppression_policy: SuppressionPolicy | None = None,
        changed_paths: set[str] | None = None,
        date: str | None = None,
    ) -> Report:
        """The Report build_report makes of these results with these waivers, suppression policy
        and listing limit."""
        waivers = waivers or {}
        ruleset, config = self.ruleset, self.config
        suppressed: list[tuple[str, int, Finding]] = []  # file findings, by path and hit
        demoted: list[tuple[str, int, Finding]] = []  # inline suppressions the policy refuses
        for path in self._suppressing:
            piece = self._pieces[path]
            for i, (f, sup) in enumerate(zip(piece.findings, piece.suppression, strict=True)):
                if sup is None:
                    continue
                if suppression_policy is None or suppression_policy(path, sup, f):
                    reason = sup.reason or "(no reason given)"
                    suppressed.append((path, i, replace(f, suppressed_by=reason)))
                elif f.fingerprint in waivers:
                    waived = replace(f, suppressed_by=waivers[f.fingerprint].describe())
                    suppressed.append((path, i, waived))
                else:
                    demoted.append((path, i, f))
        taken: list[Finding] = []  # open findings a waiver takes out
        repo_waived: list[tuple[int, int, Finding]] = []
        order = self._rule_order() if self._repo_index and waivers else {}
        for fingerprint, accepted in waivers.items():
            where = self._index.get(fingerprint)
            if where is not None:
                piece = self._pieces[where]
                i = next(i for i, f in enumerate(piece.findings) if f.fingerprint == fingerprint)
                f = piece.findings[i]
                suppressed.append((where, i, replace(f, suppressed_by=accepted.describe())))
                taken.append(f)
            rule_id = self._repo_index.get(fingerprint)
            if rule_id is not None:
                part = self._repo[rule_id]
                i = next(i for i, f in enumerate(part.findings) if f.fingerprint == fingerprint)
                f = part.findings[i]
                waived = replace(f, suppressed_by=accepted.describe())
                repo_waived.append((order[rule_id], i, waived))
                taken.append(f)
        suppressed.sort(key=lambda item: (item[0], item[1]))
        repo_waived.sort(key=lambda item: (item[0], item[1]))

        counts = dict(self._counts.open)
        for f in taken:
            _count(counts, f, -1)
        for _, _, f in demoted:
            _count(counts, f, 1)
        groups, not_stop_ship = _groups(counts)
        deductions = deductions_of(groups)
        categories = category_scores_of(deductions)
        total = sum(n for _, n in counts.values())
        if changed_paths is None:
            listed = self._sorted_open(taken, demoted)
        else:
            listed = self._listed_in(changed_paths, waivers, demoted)
        by_rule: dict[str, tuple[Finding, int]] = {}
        for first, n in groups:
            seen = by_rule.get(first.rule)
            by_rule[first.rule] = (first, n) if seen is None else (seen[0], seen[1] + n)
        if changed_paths is None:
            wins = quick_wins_of(by_rule.values(), deductions, efforts=ruleset.efforts)
            projected = projected_score_of(not_stop_ship, wins)
        else:  # quick wins and the closing line speak of the listed findings only
            wins, projected = wins_within(groups, listed, efforts=ruleset.efforts)
        disabled = self._factory.disabled
        praise = [
            rule.praise
            for rule in ruleset.repo_rules()
            if rule.id not in disabled and rule.praise and not self._repo[rule.id].hits
        ]
        assert self._stack is not None
        return assemble_report(
            ruleset,
            config,
            repo=repo,
            date=date,
            stack=self._stack[0],
            categories=categories,
            listed=listed,
            suppressed=[f for _, _, f in suppressed] + [f for _, _, f in repo_waived],
            wins=wins,
            done_well=praised(ruleset, categories, praise, self._counts.fired, disabled),
            projected=projected,
            stats=stats or ScanStats(),
            out_of_scope=total - len(listed),
            migrations=self.history(),
        )

    def _sorted_open(
        self, taken: list[Finding], demoted: list[tuple[str, int, Finding]]
    ) -> list[Finding]:
        """Every open finding in build_report's order: the sorted lists, with waived findings
        taken out and refused suppressions put in at their hit's place."""
        patched: dict[Bucket, list[Finding]] = {}

        def own(key: Bucket) -> list[Finding]:
            if key not in patched:
                patched[key] = list(self._buckets.get(key, ()))
            return patched[key]

        for f in taken:
            entries = own(_bucket(f))
            lo = bisect_left(entries, _place(f), key=_place)
            del entries[next(i for i in range(lo, len(entries)) if entries[i] is f)]
        repo_rules = self._repo
        for path, i, f in demoted:
            entries = own(_bucket(f))
            lo = bisect_left(entries, _place(f), key=_place)
            hi = bisect_right(entries, _place(f), key=_place)
            piece = self._pieces[path]
            after = (
                j
                for j in range(lo, hi)
                if entries[j].rule in repo_rules or piece.index(entries[j]) > i
            )
            entries.insert(next(after, hi), f)
        lists = {**self._buckets, **patched}
        return list(chain.from_iterable(lists[key] for key in sorted(lists)))

    def _listed_in(
        self,
        changed: set[str],
        waivers: Mapping[str, Waiver],
        demoted: list[tuple[str, int, Finding]],
    ) -> list[Finding]:
        """The open findings build_report lists when it is limited to `changed` (and findings
        about the repository as a whole)."""
        refused = {id(f) for _, _, f in demoted}
        listed: list[Finding] = []
        for path in sorted(p for p in changed if p in self._pieces):
            piece = self._pieces[path]
            for f, sup in zip(piece.findings, piece.suppression, strict=True):
                if (sup is None or id(f) in refused) and f.fingerprint not in waivers:
                    listed.append(f)
        for rule in self.ruleset.repo_rules():
            part = self._repo.get(rule.id)
            if part is None:
                continue
            listed += [
                f
                for f in part.findings
                if (f.path is None or f.path in changed) and f.fingerprint not in waivers
            ]
        listed.sort(
            key=lambda f: (not f.stop_ship, -f.severity.rank, f.category, f.path or "", f.line or 0)
        )
        return listed


def _ignored(path: str, config: StopshipConfig) -> bool:
    return bool(config.ignore_paths) and matches_any(path, config.ignore_paths)


def _hits_of(rule: Rule) -> Callable[[RepoView], list[RepoHit]]:
    return lambda view: _repo_hits(rule, view)


def _first(entry: tuple[str, Any]) -> str:
    return str(entry[0])


def _without(paths: list[str], removed: list[str]) -> list[str]:
    for path in removed:
        del paths[bisect_left(paths, path)]
    return paths


def _count(counts: dict[tuple[str, bool], tuple[Finding, int]], f: Finding, sign: int) -> None:
    key = (f.rule, f.stop_ship)
    first, n = counts.get(key, (f, 0))
    if n + sign:
        counts[key] = (first, n + sign)
    else:
        del counts[key]


def _groups(
    counts: Mapping[tuple[str, bool], tuple[Finding, int]],
) -> tuple[list[Group], list[Group]]:
    """One group per rule (both stop-ship and not: a rule's stop-ship can depend on the path),
    and the groups of the findings that are not stop-ship."""
    merged: dict[str, tuple[Finding, int]] = {}
    not_stop_ship: list[Group] = []
    for (rule, stop_ship), (first, n) in counts.items():
        seen = merged.get(rule)
        merged[rule] = (first, n) if seen is None else (seen[0], seen[1] + n)
        if not stop_ship:
            not_stop_ship.append((first, n))
    return list(merged.values()), not_stop_ship
