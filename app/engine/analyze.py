"""Per-file analysis: `analyze_file(path, bytes) -> FileResult`, a pure function of its inputs.

The result depends only on the bytes, the path kind (language, roles, the rules that apply) and the
ruleset, so it is cached by `(blob id, path kind, ruleset digest)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.engine.context import FileContext
from app.engine.foreign_suppressions import MARKERS, parse_foreign_suppressions
from app.engine.matchers import NEVER, DetectorMatcherRun, MatcherRun, RegexMatcherRun, prepare
from app.engine.model import Fact, FileResult, Hit
from app.engine.paths import glob_literals, glob_regex, language_of, roles_of
from app.engine.python_strings import comment_lines, file_documentation_lines
from app.engine.ruleset import FactSpec, Rule, Ruleset
from app.engine.screen import HINTS, Hint, Screen
from app.engine.suppressions import parse_suppressions

MAX_HITS_PER_RULE = 200


@dataclass
class _Step:
    """One rule (or fact spec) to run on files of one kind, and the screen id it needs."""

    screen_id: int | None
    run: MatcherRun
    rule: Rule | None = None
    spec: FactSpec | None = None


@dataclass
class _Plan:
    kind: str
    language: str | None
    rules: list[Rule]
    facts: list[FactSpec]
    # worked out when a file of this kind is first analysed (path kinds alone need no matchers)
    steps: list[_Step] | None = None
    # the screen ids its steps and the detectors' hints ask about
    needed: frozenset[int] | None = None


class Analyzer:
    """Applies a ruleset to files; remembers which rules apply to which path kind."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._file_rules = ruleset.file_rules()
        self._plan_cache: dict[str, _Plan] = {}
        self._filtered = {r.id for r in self._file_rules if r.has_path_filter}
        self._kind_cache: dict[
            tuple[str | None, frozenset[str]],
            tuple[list[Rule], list[FactSpec], list[tuple[str, Callable[[str], bool]]]],
        ] = {}
        self._kind_plans: dict[tuple[str | None, frozenset[str], tuple[str, ...]], _Plan] = {}
        self._plans_by_kind: dict[str, _Plan] = {}
        self.screen = Screen()
        self._runs: dict[int, MatcherRun] = {}
        self._hint_ids: dict[Hint, int] = {}
        self._prepared = False

    def plan(self, path: str) -> tuple[str, list[Rule], list[FactSpec]]:
        """The path kind of `path` (a short hash) and the rules and fact specs that apply to it."""
        found = self._plan(path)
        return found.kind, found.rules, found.facts

    def _plan(self, path: str) -> _Plan:
        cached = self._plan_cache.get(path)
        if cached is not None:
            return cached
        language = language_of(path)
        roles = roles_of(path)
        by_kind = self._kind_cache.get((language, roles))
        if by_kind is None:
            candidates = [r for r in self._file_rules if r.applies_to_kind(language, roles)]
            by_kind = (
                candidates,
                [f for f in self.ruleset.facts if _fact_applies(f, language, roles)],
                [(r.id, _path_filter(r)) for r in candidates if r.id in self._filtered],
            )
            self._kind_cache[(language, roles)] = by_kind
        candidates, facts, filters = by_kind
        # only the rules with path filters can differ between paths of one language and role
        allowed = tuple(rule_id for rule_id, allows in filters if allows(path))
        key = (language, roles, allowed)
        found = self._kind_plans.get(key)
        if found is None:
            rules = [r for r in candidates if r.id not in self._filtered or r.id in allowed]
            text = "|".join(
                [
                    language or "-",
                    ",".join(sorted(roles)),
                    ",".join(r.id for r in rules),
                    ",".join(f"{f.kind}={f.value}" for f in facts),
                ]
            )
            kind = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
            found = self._kind_plans[key] = _Plan(kind, language, rules, facts)
            self._plans_by_kind[kind] = found
        if len(self._plan_cache) < 200_000:
            self._plan_cache[path] = found
        return found

    def _steps(self, language: str | None, rules: list[Rule], facts: list[FactSpec]) -> list[_Step]:
        steps = []
        for rule in rules:
            run = self._runs[id(rule.matcher)]
            screen_id = run.screen_id(language)
            if screen_id != NEVER:
                steps.append(_Step(screen_id, run, rule=rule))
        for spec in facts:
            run = self._runs[id(spec.matcher)]
            screen_id = run.screen_id(language)
            if screen_id != NEVER:
                steps.append(_Step(screen_id, run, spec=spec))
        return steps

    def prepare(self) -> None:
        """Prepare every matcher and compile the screen (done by the first `analyze`; path kinds
        need none of it, so a parent process that only looks up its cache skips it)."""
        if self._prepared:
            return
        rules, facts = self._file_rules, self.ruleset.facts
        for matcher in [r.matcher for r in rules] + [f.matcher for f in facts]:
            run = prepare(matcher, self.screen)
            if run is not None:
                self._runs[id(matcher)] = run
        for declared in HINTS:
            entry = self.screen.pattern(declared.pattern, lowered=declared.lowered)
            if entry is not None:
                self._hint_ids[declared] = entry[0]
        for run in self._runs.values():
            if isinstance(run, DetectorMatcherRun) and run.needs is not None:
                run.needed_id = self._hint_ids.get(run.needs)
        self.screen.scan(b"")
        self._prepared = True

    def path_kind(self, path: str) -> str:
        return self.plan(path)[0]

    def analyze(self, path: str, data: bytes, kind: str | None = None) -> FileResult:
        """Run every applicable rule and fact spec over one file's bytes. `kind` is
        `path_kind(path)` when the caller has it already (it spares working the plan out)."""
        plan = (self._plans_by_kind.get(kind) if kind else None) or self._plan(path)
        result = FileResult()
        if not plan.rules and not plan.facts:
            return result
        if plan.steps is None:
            self.prepare()
            plan.steps = self._steps(plan.language, plan.rules, plan.facts)
            asked = {step.screen_id for step in plan.steps if step.screen_id is not None}
            plan.needed = frozenset(asked) | frozenset(self._hint_ids.values())
        seen = self.screen.scan(data, plan.needed)
        ctx = FileContext(path, data, seen=seen, hint_ids=self._hint_ids)
        result.suppressions = parse_suppressions(ctx.text)
        if ctx.may_match(MARKERS):
            result.suppressions += parse_foreign_suppressions(ctx.text)
        problems = result.problems
        facts = result.facts
        for step in plan.steps:
            if seen is not None and step.screen_id is not None and step.screen_id not in seen:
                continue  # the screen proved this matcher finds nothing here
            rule = step.rule
            if rule is not None:
                hits: list[Hit] = []
                for item in step.run.run(rule.id, ctx, seen, problems):
                    if isinstance(item, Hit):
                        hits.append(item)
                        if len(hits) >= MAX_HITS_PER_RULE:
                            break
                    else:
                        facts.append(item)
                if hits and not rule.in_documentation and ctx.language == "python":
                    documentation = ctx.memo.get(comment_lines)
                    if documentation is None:  # asked once per file, for every rule's hits
                        documentation = file_documentation_lines(ctx) | comment_lines(ctx.text)
                        ctx.memo[comment_lines] = documentation
                    hits = [h for h in hits if h.line not in documentation]
                result.hits.extend(hits)
                continue
            spec = step.spec
            assert spec is not None
            if isinstance(step.run, RegexMatcherRun):
                line = step.run.first_line(ctx, seen)
                if line is not None:
                    facts.append(Fact(spec.kind, spec.value, line))
                continue
            for item in step.run.run("", ctx, seen, problems):
                if isinstance(item, Fact):
                    facts.append(item)
                else:
                    facts.append(Fact(spec.kind, spec.value, item.line))
                    break
        result.facts = _dedupe(facts)
        return result


def analyze_file(path: str, data: bytes, ruleset: Ruleset) -> FileResult:
    """Convenience wrapper: analyse one file with a fresh Analyzer."""
    return Analyzer(ruleset).analyze(path, data)


def _path_filter(rule: Rule) -> Callable[[str], bool]:
    """`rule.path_allowed`, with its glob patterns compiled once (and skipped for paths that
    contain none of their literal parts)."""
    include = _globs(rule.paths.include)
    exclude = _globs(rule.paths.exclude)

    def allows(path: str) -> bool:
        if include is not None and not include(path):
            return False
        return exclude is None or not exclude(path)

    return allows


def _globs(globs: tuple[str, ...]) -> Callable[[str], bool] | None:
    if not globs:
        return None
    regex = glob_regex(globs)
    literals = glob_literals(globs)
    if literals is None:
        return lambda path: regex.match(path) is not None
    # one search for all the literal parts instead of a substring scan per glob
    hint = re.compile("|".join(re.escape(literal) for literal in literals))
    return lambda path: hint.search(path) is not None and regex.match(path) is not None


def _fact_applies(spec: FactSpec, language: str | None, roles: frozenset[str]) -> bool:
    if "lockfile" in roles:
        return False
    if "test" in roles and not spec.in_tests:
        return False
    return not spec.languages or "any" in spec.languages or language in spec.languages


def _dedupe(facts: list[Fact]) -> list[Fact]:
    seen: set[tuple[str, str]] = set()
    out = []
    for fact in facts:
        if (fact.kind, fact.value) not in seen:
            seen.add((fact.kind, fact.value))
            out.append(fact)
    return out
