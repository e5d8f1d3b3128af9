"""Per-file analysis: `analyze_file(path, bytes) -> FileResult`, a pure function of its inputs.

The result depends only on the bytes, the path kind (language, roles, the rules that apply) and the
ruleset, so it is cached by `(blob id, path kind, ruleset digest)`.
"""

from __future__ import annotations

import hashlib

from app.engine.context import FileContext
from app.engine.matchers import MatcherRun, prepare
from app.engine.model import Fact, FileResult, Hit
from app.engine.paths import language_of, roles_of
from app.engine.ruleset import FactSpec, Rule, Ruleset
from app.engine.screen import HINTS, Hint, Screen
from app.engine.suppressions import parse_suppressions

MAX_HITS_PER_RULE = 200


class Analyzer:
    """Applies a ruleset to files; remembers which rules apply to which path kind."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._file_rules = ruleset.file_rules()
        self._plan_cache: dict[str, tuple[str, list[Rule], list[FactSpec]]] = {}
        self._filtered = {r.id for r in self._file_rules if r.has_path_filter}
        self._kind_cache: dict[
            tuple[str | None, frozenset[str]], tuple[list[Rule], list[FactSpec]]
        ] = {}
        self._kind_hash: dict[tuple[str | None, frozenset[str], tuple[str, ...]], str] = {}
        self.screen = Screen()
        self._runs: dict[int, MatcherRun] = {}
        for matcher in [r.matcher for r in self._file_rules] + [f.matcher for f in ruleset.facts]:
            run = prepare(matcher, self.screen)
            if run is not None:
                self._runs[id(matcher)] = run
        self._hint_ids: dict[Hint, int] = {}
        for declared in HINTS:
            entry = self.screen.pattern(declared.pattern, lowered=declared.lowered)
            if entry is not None:
                self._hint_ids[declared] = entry[0]

    def plan(self, path: str) -> tuple[str, list[Rule], list[FactSpec]]:
        """The path kind of `path` (a short hash) and the rules and fact specs that apply to it."""
        cached = self._plan_cache.get(path)
        if cached is not None:
            return cached
        language = language_of(path)
        roles = roles_of(path)
        by_kind = self._kind_cache.get((language, roles))
        if by_kind is None:
            by_kind = (
                [r for r in self._file_rules if r.applies_to_kind(language, roles)],
                [f for f in self.ruleset.facts if _fact_applies(f, language, roles)],
            )
            self._kind_cache[(language, roles)] = by_kind
        candidates, facts = by_kind
        rules = [r for r in candidates if r.id not in self._filtered or r.path_allowed(path)]
        key = (language, roles, tuple(r.id for r in rules))
        kind = self._kind_hash.get(key)
        if kind is None:
            text = "|".join(
                [
                    language or "-",
                    ",".join(sorted(roles)),
                    ",".join(r.id for r in rules),
                    ",".join(f"{f.kind}={f.value}" for f in facts),
                ]
            )
            kind = self._kind_hash[key] = hashlib.sha1(
                text.encode(), usedforsecurity=False
            ).hexdigest()[:12]
        result = (kind, rules, facts)
        if len(self._plan_cache) < 200_000:
            self._plan_cache[path] = result
        return result

    def path_kind(self, path: str) -> str:
        return self.plan(path)[0]

    def analyze(self, path: str, data: bytes) -> FileResult:
        """Run every applicable rule and fact spec over one file's bytes."""
        _, rules, facts = self.plan(path)
        result = FileResult()
        if not rules and not facts:
            return result
        seen = self.screen.scan(data)
        ctx = FileContext(path, data, seen=seen, hint_ids=self._hint_ids)
        result.suppressions = parse_suppressions(ctx.text)
        problems = result.problems
        runs = self._runs
        for rule in rules:
            hits: list[Hit] = []
            for item in runs[id(rule.matcher)].run(rule.id, ctx, seen, problems):
                if isinstance(item, Hit):
                    hits.append(item)
                    if len(hits) >= MAX_HITS_PER_RULE:
                        break
                else:
                    result.facts.append(item)
            result.hits.extend(hits)
        for spec in facts:
            for item in runs[id(spec.matcher)].run("", ctx, seen, problems):
                if isinstance(item, Fact):
                    result.facts.append(item)
                else:
                    result.facts.append(Fact(spec.kind, spec.value, item.line))
                    break
        result.facts = _dedupe(result.facts)
        return result


def analyze_file(path: str, data: bytes, ruleset: Ruleset) -> FileResult:
    """Convenience wrapper: analyse one file with a fresh Analyzer."""
    return Analyzer(ruleset).analyze(path, data)


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
