"""A ruleset's matchers prepared once per Analyzer: regexes compiled, ast-grep rules rewritten,
keywords and patterns registered with the Screen, so that running one on a file is a few set
look-ups and, only where a match is possible, the scan itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from app.engine.context import SG_LANGUAGE, FileContext
from app.engine.detectors import FILE_DETECTOR_HINTS, FILE_DETECTORS, NODE_JUDGES, NodeJudge
from app.engine.guided_search import guide
from app.engine.model import Fact, Hit, ParseProblem
from app.engine.regex_superset import always_contains
from app.engine.ruleset import Matcher
from app.engine.screen import Screen
from app.engine.sg_file_rules import rule_for_file
from app.engine.sg_regex import ascii_rule

# A screened file's ids (see Screen.scan), or None for a file that was not screened.
Seen = frozenset[int] | None
# `screen_id` of a matcher that can never match files of a language (no ast-grep rule for it).
NEVER = -1


@lru_cache(maxsize=1024)
def compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=1024)
def lower_pattern(pattern: str) -> str:
    """The pattern with its letters lower-cased; escapes (`\\S`, `\\B`...) stay as they are."""
    out = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = not escaped and ch == "\\"
    return "".join(out)


def _has_keyword(ctx: FileContext, keywords: tuple[str, ...], ignore_case: bool = False) -> bool:
    if not ignore_case:
        text = ctx.text
        return any(k in text for k in keywords)
    lowered = ctx.lower_text if ctx.lower_text is not None else ctx.text.lower()
    return any(k.lower() in lowered for k in keywords)


class _Gate:
    """Keywords (at least one must occur) and a pattern (must match somewhere). For a screened
    file the Screen answers for the pattern; the keywords are looked up in Python only once the
    pattern passed (rare), or screened too when there is no pattern to screen. (Keyword lists
    in the screen's set cost more DFA states than the look-ups they would spare.)"""

    def __init__(
        self,
        screen: Screen,
        keywords: tuple[str, ...],
        lowered_keywords: bool,
        pattern: str | None,
        lowered_pattern: bool,
    ) -> None:
        self.keywords = keywords
        self.lowered_keywords = lowered_keywords
        self.pattern_id: int | None = None
        self.pattern_exact = False
        if pattern is not None:
            entry = screen.pattern(pattern, lowered=lowered_pattern)
            if entry is not None:
                self.pattern_id, self.pattern_exact = entry
        self.keywords_id: int | None = None
        if keywords and self.pattern_id is None:
            self.keywords_id = screen.keywords(keywords, lowered=lowered_keywords)
        # When every match of the pattern contains a keyword, the pattern's own search (which
        # still follows) proves them: looking for the keywords first is then only extra work.
        words = tuple(k.lower() for k in keywords) if lowered_keywords else keywords
        self.keywords_implied = (
            self.pattern_id is not None
            and pattern is not None
            and lowered_keywords == lowered_pattern
            and always_contains(pattern, words)
        )

    def passes(self, ctx: FileContext, seen: Seen) -> bool:
        """False when the keywords are absent or the pattern certainly does not match."""
        if seen is not None:
            if self.pattern_id is not None and self.pattern_id not in seen:
                return False
            if self.keywords_id is not None:
                return self.keywords_id in seen
            if self.keywords_implied:
                return True
        return not self.keywords or _has_keyword(ctx, self.keywords, self.lowered_keywords)

    @property
    def screen_id(self) -> int | None:
        """An id the screen must have seen for this gate to pass (None: no such id)."""
        return self.pattern_id if self.pattern_id is not None else self.keywords_id

    def pattern_certain(self, seen: Seen) -> bool:
        """True when the Screen's answer already proves the pattern matches."""
        return seen is not None and self.pattern_exact and self.pattern_id in seen


class RegexMatcherRun:
    def __init__(self, matcher: Matcher, screen: Screen) -> None:
        rx = matcher.regex
        assert rx is not None
        self.ignore_case = rx.ignore_case
        self.pattern = compiled(rx.pattern, rx.ignore_case)
        # case-folding in the regex engine is several times slower than on the text
        self.lowered = compiled(lower_pattern(rx.pattern), False) if rx.ignore_case else None
        searched = lower_pattern(rx.pattern) if rx.ignore_case else rx.pattern
        self.gate = _Gate(screen, rx.keywords, rx.ignore_case, searched, rx.ignore_case)
        self.guide = guide(searched, rx.ignore_case)

    def screen_id(self, language: str | None) -> int | None:
        return self.gate.screen_id

    def run(
        self, rule: str, ctx: FileContext, seen: Seen, problems: list[ParseProblem]
    ) -> Iterator[Hit]:
        if not self.gate.passes(ctx, seen):
            return
        text, pattern = ctx.text, self.pattern
        if self.lowered is not None and ctx.lower_text is not None:
            text, pattern = ctx.lower_text, self.lowered
        original = ctx.text
        if seen is not None and self.guide is not None:
            matches = self.guide.finditer(pattern, text, ctx.data)
        else:
            matches = pattern.finditer(text)
        for m in matches:
            start = m.start()
            yield Hit(rule, ctx.line_of(start), original[start : m.end()][:200])

    def first_line(self, ctx: FileContext, seen: Seen) -> int | None:
        """The line of the first match (what a fact records), or None: `run` without a
        generator, a Hit or the text of the match."""
        if not self.gate.passes(ctx, seen):
            return None
        text, pattern = ctx.text, self.pattern
        if self.lowered is not None and ctx.lower_text is not None:
            text, pattern = ctx.lower_text, self.lowered
        if seen is not None and self.guide is not None:
            found = self.guide.search(pattern, text, ctx.data)
        else:
            found = pattern.search(text)
        return None if found is None else ctx.line_of(found.start())


class AstGrepMatcherRun:
    def __init__(self, matcher: Matcher, screen: Screen) -> None:
        sg = matcher.ast_grep
        assert sg is not None
        # per file language: the ast-grep config to run and the keywords and prefilter before it
        self.by_language: dict[str, tuple[dict[str, Any], str, _Prefilter]] = {}
        for language, grammar in SG_LANGUAGE.items():
            chosen = next(
                (
                    c
                    for c in (language, grammar, "typescript" if grammar == "tsx" else None)
                    if c and c in sg.rules
                ),
                None,
            )
            if chosen is None:
                continue
            config: dict[str, Any] = {"rule": ascii_rule(sg.rules[chosen])}
            if sg.constraints:
                config["constraints"] = sg.constraints
            prefilter = sg.prefilter.get(chosen) or sg.prefilter.get("any")
            query = json.dumps(config, sort_keys=True)  # equal queries share their nodes per file
            self.by_language[language] = (config, query, _Prefilter(sg.keywords, prefilter, screen))
        self.judge: NodeJudge | None = NODE_JUDGES[sg.judge] if sg.judge else None
        self.options = matcher.options

    def screen_id(self, language: str | None) -> int | None:
        entry = self.by_language.get(language or "")
        return NEVER if entry is None else entry[2].gate.screen_id

    def run(
        self, rule: str, ctx: FileContext, seen: Seen, problems: list[ParseProblem]
    ) -> Iterator[Hit]:
        entry = self.by_language.get(ctx.language or "")
        if entry is None:
            return
        config, query, prefilter = entry
        if not prefilter.passes(ctx, seen):
            return
        key = ("find_all", query)  # rules sharing one query (SEC002 and SEC025) ask it once
        nodes = ctx.memo.get(key)
        if nodes is None:
            try:
                nodes = ctx.memo[key] = _find_all(ctx, config)
            except (ValueError, RuntimeError) as exc:
                problems.append(ParseProblem("ast-grep", str(exc)[:200]))
                return
        for node in nodes:
            detail = ""
            if self.judge is not None:
                verdict = self.judge(ctx, node, self.options)
                if verdict is None:
                    continue
                detail = verdict
            yield Hit(rule, node.range().start.line + 1, node.text()[:200], detail)


def _find_all(ctx: FileContext, config: dict[str, Any]) -> list[Any]:
    """The nodes `config` matches, its whole-file clauses decided once (sg_file_rules)."""
    root = ctx.sg_root
    rule = rule_for_file(config["rule"], root)
    return [] if rule is None else list(root.find_all({**config, "rule": rule}))


class _Prefilter:
    """What must hold before a file is parsed: one of the keywords occurs, and the prefilter
    regex matches (ast-grep compiles its rule on every call, so skipped calls are the cheapest
    speed-up there is). A case-insensitive prefilter runs case-sensitively on the lower-cased
    text (several times faster in Python's engine)."""

    def __init__(self, keywords: tuple[str, ...], prefilter: str | None, screen: Screen) -> None:
        self.original = compiled(prefilter, False) if prefilter else None
        self.lowered: re.Pattern[str] | None = None
        pattern = prefilter
        if prefilter and prefilter.startswith("(?i)"):
            pattern = lower_pattern(prefilter[4:])
            self.lowered = compiled(pattern, False)
        self.gate = _Gate(screen, keywords, False, pattern, self.lowered is not None)
        self.guide = guide(pattern, self.lowered is not None) if pattern else None

    def passes(self, ctx: FileContext, seen: Seen) -> bool:
        if not self.gate.passes(ctx, seen):
            return False
        if self.original is None or self.gate.pattern_certain(seen):
            return True
        if seen is not None and self.guide is not None:  # ASCII: lower_text is there
            if self.lowered is not None and ctx.lower_text is not None:
                return self.guide.search(self.lowered, ctx.lower_text, ctx.data) is not None
            return self.guide.search(self.original, ctx.text, ctx.data) is not None
        if self.lowered is not None and ctx.lower_text is not None:
            return self.lowered.search(ctx.lower_text) is not None
        return self.original.search(ctx.text) is not None


class DetectorMatcherRun:
    def __init__(self, matcher: Matcher) -> None:
        assert matcher.detector is not None
        self.detector = FILE_DETECTORS[matcher.detector]
        self.options = matcher.options
        # the screen id of the hint it needs, once the analyzer has the hints' ids (registered
        # in their own order: the order of a screen's patterns decides its sets)
        self.needs = FILE_DETECTOR_HINTS.get(matcher.detector)
        self.needed_id: int | None = None

    def screen_id(self, language: str | None) -> int | None:
        return self.needed_id

    def run(
        self, rule: str, ctx: FileContext, seen: Seen, problems: list[ParseProblem]
    ) -> Iterable[Hit | Fact]:
        for item in self.detector(ctx, self.options):
            if isinstance(item, ParseProblem):
                if item not in problems:
                    problems.append(item)
            elif isinstance(item, Hit):
                yield Hit(rule, item.line, item.text, item.detail)
            else:
                yield item


MatcherRun = RegexMatcherRun | AstGrepMatcherRun | DetectorMatcherRun


def prepare(matcher: Matcher, screen: Screen) -> MatcherRun | None:
    """The runnable form of a file-level matcher (None for repository matchers)."""
    if matcher.regex is not None:
        return RegexMatcherRun(matcher, screen)
    if matcher.ast_grep is not None:
        return AstGrepMatcherRun(matcher, screen)
    if matcher.detector is not None:
        return DetectorMatcherRun(matcher)
    return None
