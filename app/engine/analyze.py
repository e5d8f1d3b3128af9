"""Per-file analysis: `analyze_file(path, bytes) -> FileResult`, a pure function of its inputs.

The result depends only on the bytes, the path kind (language, roles, the rules that apply) and the
ruleset, so it is cached by `(blob id, path kind, ruleset digest)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from app.engine.context import SG_LANGUAGE, FileContext
from app.engine.detectors import FILE_DETECTORS
from app.engine.model import Fact, FileResult, Hit, ParseProblem
from app.engine.paths import language_of, roles_of
from app.engine.ruleset import FactSpec, Matcher, Rule, Ruleset
from app.engine.sg_regex import ascii_rule
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
        ctx = FileContext(path, data)
        result = FileResult()
        if not rules and not facts:
            return result
        result.suppressions = parse_suppressions(ctx.text)
        for rule in rules:
            hits = []
            for item in _run_matcher(rule.matcher, ctx, result.problems):
                if isinstance(item, Hit):
                    hits.append(replace(item, rule=rule.id))
                elif isinstance(item, Fact):
                    result.facts.append(item)
                if len(hits) >= MAX_HITS_PER_RULE:
                    break
            result.hits.extend(hits)
        for spec in facts:
            for item in _run_matcher(spec.matcher, ctx, result.problems):
                if isinstance(item, Fact):
                    result.facts.append(item)
                elif isinstance(item, Hit):
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


@lru_cache(maxsize=1024)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE | (re.IGNORECASE if ignore_case else 0))


def _run_matcher(
    matcher: Matcher, ctx: FileContext, problems: list[ParseProblem]
) -> Iterable[Hit | Fact | ParseProblem]:
    if matcher.regex is not None:
        rx = matcher.regex
        if rx.keywords and not _has_keyword(ctx, rx.keywords, rx.ignore_case):
            return
        text, pattern = ctx.text, _compiled(rx.pattern, rx.ignore_case)
        if rx.ignore_case and ctx.lower_text is not None:
            # case-folding in the regex engine is several times slower than on the text
            text, pattern = ctx.lower_text, _compiled(_lower_pattern(rx.pattern), False)
        for m in pattern.finditer(text):
            yield Hit("", ctx.line_of(m.start()), ctx.text[m.start() : m.end()][:200])
    elif matcher.ast_grep is not None:
        yield from _run_ast_grep(matcher, ctx, problems)
    elif matcher.detector is not None:
        for item in FILE_DETECTORS[matcher.detector](ctx, matcher.options):
            if isinstance(item, ParseProblem):
                if item not in problems:
                    problems.append(item)
            else:
                yield item


def _has_keyword(ctx: FileContext, keywords: tuple[str, ...], ignore_case: bool = False) -> bool:
    if not ignore_case:
        text = ctx.text
        return any(k in text for k in keywords)
    lowered = ctx.lower_text if ctx.lower_text is not None else ctx.text.lower()
    return any(k.lower() in lowered for k in keywords)


@lru_cache(maxsize=1024)
def _lower_pattern(pattern: str) -> str:
    """The pattern with its letters lower-cased; escapes (`\\S`, `\\B`...) stay as they are."""
    out = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = not escaped and ch == "\\"
    return "".join(out)


def _prefilter_passes(prefilter: str, ctx: FileContext) -> bool:
    """A case-insensitive prefilter runs case-sensitively on the lower-cased text (several
    times faster in Python's engine); the others on the text itself."""
    if prefilter.startswith("(?i)") and ctx.lower_text is not None:
        pattern = _compiled(_lower_pattern(prefilter[4:]), False)
        return pattern.search(ctx.lower_text) is not None
    return _compiled(prefilter, False).search(ctx.text) is not None


_ASCII_RULES: dict[int, Any] = {}


def _ascii_rule(key: int, rule: dict[str, Any]) -> Any:
    """The rule with ASCII-only regexes, rewritten once per rule object (rules live as long as
    their Ruleset, so `id` is a stable key)."""
    cached = _ASCII_RULES.get(key)
    if cached is None or cached[0] is not rule:
        cached = _ASCII_RULES[key] = (rule, ascii_rule(rule))
    return cached[1]


def _run_ast_grep(
    matcher: Matcher, ctx: FileContext, problems: list[ParseProblem]
) -> Iterable[Hit]:
    sg = matcher.ast_grep
    assert sg is not None
    language = SG_LANGUAGE.get(ctx.language or "")
    rule: dict[str, Any] | None = None
    chosen = ""
    for candidate in (ctx.language, language, "typescript" if language == "tsx" else None):
        if candidate and candidate in sg.rules:
            rule, chosen = sg.rules[candidate], candidate
            break
    if rule is None:
        return
    if sg.keywords and not _has_keyword(ctx, sg.keywords):
        return
    prefilter = sg.prefilter.get(chosen) or sg.prefilter.get("any")
    if prefilter and not _prefilter_passes(prefilter, ctx):
        return
    config: dict[str, Any] = {"rule": _ascii_rule(id(rule), rule)}
    if sg.constraints:
        config["constraints"] = sg.constraints
    try:
        nodes = ctx.sg_root.find_all(config)
    except (ValueError, RuntimeError) as exc:
        problems.append(ParseProblem("ast-grep", str(exc)[:200]))
        return
    for node in nodes:
        yield Hit("", node.range().start.line + 1, node.text()[:200])
