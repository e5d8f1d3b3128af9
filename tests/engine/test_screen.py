"""The RE2 screen: Python patterns rewritten as supersets, keywords and patterns found in one pass,
and matchers skipped only when the screen proves they cannot match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import re2

from app.engine.analyze import Analyzer
from app.engine.guided_search import guide
from app.engine.matchers import lower_pattern
from app.engine.regex_superset import always_contains, superset
from app.engine.ruleset import Ruleset, load_ruleset
from app.engine.screen import Screen

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.mark.parametrize(
    ("pattern", "rewritten", "exact"),
    [
        (r"abc", "abc", True),
        (r"a\.b", r"a\x{2e}b", True),
        (r"\s", r"[\t\n\x0b\x0c\r\x1c-\x1f ]", True),
        (r"\S+", r"(?:[^\t\n\x0b\x0c\r\x1c-\x1f ])+", True),
        (r"^x$", "(?m:^)x(?m:$)", True),
        (r"a(?=b)", "a", False),
        (r"a(?!b)c", "ac", False),
        (r"(a)\1", "(?:a)(?s:.*)", False),
        (r"(?i)ab", "(?i:ab)", True),
        (r"x{2,5000}", "(?:x){2,}", False),
        (r"\bend\Z", r"\bend\z", True),
    ],
)
def test_superset_rewrites(pattern: str, rewritten: str, exact: bool) -> None:
    result = superset(pattern)
    assert result is not None
    assert (result.pattern, result.exact) == (rewritten, exact)
    re2.compile(result.pattern)


@pytest.mark.parametrize(
    ("pattern", "rewritten", "exact"),
    [
        (r"a.{0,400}b", "a(?:.)*b", False),
        (r"x{3,40}", "(?:x){3,}", False),
        (r"x{3,35}", "(?:x){3,35}", True),
        (r"x{43}", "(?:x){43}", True),
    ],
)
def test_superset_drops_the_upper_bound_of_ranges_wider_than_asked(
    pattern: str, rewritten: str, exact: bool
) -> None:
    # a DFA counting to 400 keeps a state per set of positions it may be at: the screen asks for
    # less, guided searches (which propose offsets to Python) keep the bound
    result = superset(pattern, max_span=32)
    assert result is not None
    assert (result.pattern, result.exact) == (rewritten, exact)
    assert superset(r"a.{0,400}b") == superset(r"a.{0,400}b", max_span=1000)
    assert superset(r"a.{0,400}b").pattern == "a(?:.){0,400}b"  # type: ignore[union-attr]


def test_superset_refuses_what_it_cannot_widen_safely() -> None:
    # RE2's `\S` takes \v and \x1c-\x1f, so its negation would be narrower than Python's
    assert superset(r"[^\S\n]") is None


def _texts() -> list[str]:
    texts = [p.read_text() for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    for rule in load_ruleset().rules:
        for example in rule.examples.bad + rule.examples.good:
            texts.extend(example.files.values())
    return [t for t in texts if t.isascii()]


def _rule_patterns(ruleset: Ruleset) -> list[tuple[str, bool]]:
    """(pattern, runs on lower-cased text) of every regex and prefilter, as the engine runs it."""
    out = []
    for item in [*ruleset.rules, *ruleset.facts]:
        m = item.matcher
        if m.regex is not None:
            rx = m.regex
            out.append((lower_pattern(rx.pattern), True) if rx.ignore_case else (rx.pattern, False))
        if m.ast_grep is not None:
            for prefilter in m.ast_grep.prefilter.values():
                lowered = prefilter.startswith("(?i)")
                out.append((lower_pattern(prefilter[4:]), True) if lowered else (prefilter, False))
    return out


def test_rewritten_rule_patterns_find_every_python_match(ruleset: Ruleset) -> None:
    """On the corpus and every rule example: an exact rewrite starts its first match where Python
    does; any other starts no later (so "no RE2 match" always means "no Python match")."""
    texts = _texts()
    for pattern, lowered in _rule_patterns(ruleset):
        rewritten = superset(pattern)
        assert rewritten is not None, pattern
        python, rx2 = re.compile(pattern, re.MULTILINE), re2.compile(rewritten.pattern)
        for text in texts:
            subject = text.lower() if lowered else text
            want, got = python.search(subject), rx2.search(subject)
            if want is None:
                assert got is None or not rewritten.exact, (pattern, subject[:200])
            else:
                assert got is not None and got.start() <= want.start(), (pattern, subject[:200])
                assert got.start() == want.start() or not rewritten.exact, pattern


def test_screen_reports_keywords_and_patterns_that_occur() -> None:
    screen = Screen()
    timeout = screen.keywords(("timeout=", "deadline="))
    select = screen.keywords(("SELECT",), lowered=True)
    entry = screen.pattern(r"requests\.get\((?![^)]*timeout)")
    assert entry is not None
    call, exact = entry
    assert not exact
    seen = screen.scan(b"requests.get(url, timeout=3)\n")
    assert seen is not None
    assert {timeout, call} <= seen
    assert select not in seen
    seen = screen.scan(b"cur.execute('select 1')\n")
    assert seen is not None and select in seen and timeout not in seen and call not in seen


def test_a_scan_runs_only_the_sets_that_hold_what_is_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids of sets nobody needs are reported as occurring (nothing is proven about them)."""
    monkeypatch.setattr("app.engine.screen._PER_SET", 2)
    screen = Screen()
    first, second, third = (screen.keywords((word,)) for word in ("alpha", "beta", "gamma"))
    data = b"alpha\n"
    assert screen.scan(data) == {0, first}
    assert screen.scan(data, frozenset({first})) == {0, first, third}
    assert screen.scan(data, frozenset({third})) == {0, first, second}
    assert screen.scan(b"gamma\n", frozenset({third})) == {0, first, second, third}


def test_lowered_patterns_are_screened_case_insensitively() -> None:
    screen = Screen()
    entry = screen.pattern("drop\\s+table", lowered=True)
    assert entry is not None
    seen = screen.scan(b"q = 'DROP  Table users'\n")
    assert seen is not None and entry[0] in seen
    # a pattern that turns case-folding off for a part cannot be screened that way
    assert screen.pattern("(?-i:drop) table", lowered=True) is None


def test_one_character_patterns_are_left_to_python() -> None:
    assert Screen().pattern("\\S") is None


def test_non_ascii_files_are_not_screened() -> None:
    screen = Screen()
    screen.keywords(("x",))
    assert screen.scan("x = 'é'\n".encode()) is None


RULES = """
rules:
  - id: TST001
    name: gated-by-keyword
    category: security
    severity: low
    points: 1
    effort: 1
    impact: i
    matcher:
      regex: {pattern: 'danger\\(', keywords: [import danger]}
    message: m
    why: w
    fix: f
    examples:
      bad: {files: {a.py: "import danger\\ndanger()\\n"}}
      good: {files: {a.py: "danger()\\n"}}
  - id: TST002
    name: case-insensitive-keyword
    category: security
    severity: low
    points: 1
    effort: 1
    impact: i
    matcher:
      regex: {pattern: 'drop\\s+table', ignore_case: true, keywords: [DROP]}
    message: m
    why: w
    fix: f
    examples:
      bad: {files: {a.py: "q = 'Drop Table users'\\n"}}
      good: {files: {a.py: "q = 'dropped'\\n"}}
  - id: TST003
    name: parsed-when-prefilter-matches
    category: security
    severity: low
    points: 1
    effort: 1
    impact: i
    languages: [python]
    matcher:
      ast_grep:
        rules: {python: {pattern: 'eval($X)'}}
        keywords: [eval]
        prefilter: {python: '\\beval\\((?!\\s*\\))'}
    message: m
    why: w
    fix: f
    examples:
      bad: {files: {a.py: "eval(x)\\n"}}
      good: {files: {a.py: "eval()\\n"}}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    folder = tmp_path_factory.mktemp("rules")
    (folder / "test.yml").write_text(RULES)
    return Analyzer(load_ruleset(folder))


@pytest.mark.parametrize("suffix", ["", "  # café\n"])  # screened (ASCII) and not screened
@pytest.mark.parametrize(
    ("text", "fired"),
    [
        ("danger()\n", set()),  # keyword absent: the rule does not run
        ("import danger\ndanger()\n", {"TST001"}),  # keyword present: it runs
        ("q = 'DROP   TABLE x'\n", {"TST002"}),
        ("q = 'drop table x'\n", {"TST002"}),  # keyword DROP found case-insensitively
        ("q = 'drop tables'\n", {"TST002"}),
        ("eval(code)\n", {"TST003"}),
        ("eval()\n", set()),  # the prefilter's lookahead refuses it: never parsed
        ("print(1)\n", set()),
    ],
)
def test_matchers_run_only_where_they_can_match(
    small: Analyzer, text: str, fired: set[str], suffix: str
) -> None:
    result = small.analyze("svc/a.py", (text + suffix).encode())
    assert {h.rule for h in result.hits} == fired


def test_guided_search_yields_what_finditer_yields(ruleset: Ruleset) -> None:
    """RE2 proposes where matches can start, Python decides: the same matches as finditer."""
    texts = _texts()
    for pattern, lowered in _rule_patterns(ruleset):
        found = guide(pattern, lowered)
        if found is None:
            continue
        python = re.compile(pattern, re.MULTILINE)
        for text in texts:
            subject = text.lower() if lowered else text
            want = [m.span() for m in python.finditer(subject)]
            assert [m.span() for m in found.finditer(python, subject, text.encode())] == want


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"^b.", "abx\nbx\nbb"),  # a line start, not the offset where the search resumes
        (r"\bbb+", "abb bb b bbb"),  # a word boundary sees the character before the offset
        (r"(?<=a)bc", "babc abc"),  # so does a lookbehind
        (r"b(?!c).", "bc bd bcb bx"),  # a candidate refused by Python: the next one is tried
        (r"(x)y\1", "xyy xyx"),  # back-reference: RE2 only narrows down where to look
    ],
)
def test_guided_search_agrees_at_offsets(pattern: str, text: str) -> None:
    found = guide(pattern)
    assert found is not None
    python = re.compile(pattern, re.MULTILINE)
    got = [m.span() for m in found.finditer(python, text, text.encode())]
    assert got == [m.span() for m in python.finditer(text)]


def test_patterns_that_can_match_nothing_or_one_character_are_not_guided() -> None:
    assert guide(r"a*") is None
    assert guide(r"\S") is None


@pytest.mark.parametrize(
    ("pattern", "words", "contained"),
    [
        ("lock_timeout", ("lock_timeout",), True),
        (r"(lifespan|\buvicorn\b|on_event\(\s*x)", ("lifespan", "uvicorn", "on_event"), True),
        (r"(lifespan|\buvicorn\b|gunicorn)", ("lifespan", "uvicorn"), False),
        (r"a?lock_timeout", ("lock_timeout",), True),
        (r"fo\bo", ("foo",), True),  # a zero-width assertion keeps the letters adjacent
        (r"fo.o", ("foo",), False),
        (r"(foo)*", ("foo",), False),
        (r"(foo)+", ("foo",), True),
        (r"(?i)lock", ("lock",), False),  # case-folded: "LOCK" matches but has no "lock"
        (r"lo(?i:c)k", ("lock",), False),
    ],
)
def test_patterns_whose_every_match_contains_a_keyword(
    pattern: str, words: tuple[str, ...], contained: bool
) -> None:
    assert always_contains(pattern, words) is contained


def test_detectors_that_need_a_hint_are_skipped_where_the_screen_rules_it_out(
    monkeypatch: pytest.MonkeyPatch, ruleset: Ruleset
) -> None:
    """A detector registered with `needs` is not called on a screened file without its hint,
    and is called where the hint occurs or the file is not screened."""
    from app.engine.detectors import FILE_DETECTOR_HINTS, FILE_DETECTORS
    from app.engine.matchers import DetectorMatcherRun

    assert "insecure_setting_default" in FILE_DETECTOR_HINTS
    calls: list[str] = []
    original = FILE_DETECTORS["insecure_setting_default"]

    def counting(ctx, options):  # type: ignore[no-untyped-def]
        calls.append(ctx.path)
        return original(ctx, options)

    monkeypatch.setitem(FILE_DETECTORS, "insecure_setting_default", counting)
    analyzer = Analyzer(ruleset)
    analyzer.prepare()
    assert any(
        isinstance(run, DetectorMatcherRun) and run.screen_id(None) is not None
        for run in analyzer._runs.values()
    )
    analyzer.analyze("app/settings.py", b"TIMEOUT = 3\n")
    assert calls == []
    analyzer.analyze("app/settings.py", b'DEBUG = os.environ.get("DEBUG", "1")\n')
    analyzer.analyze("app/settings.py", "TIMEOUT = 3  # café\n".encode())
    assert len(calls) == 6  # DEP017, SEC022 and SEC024 on each of the two files
