"""Reports survive the cache's JSON codec unchanged, and the rules' parsed-YAML store is used
only for the files it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.report import ScanStats
from app.engine.report_codec import report_from_json, report_to_json
from app.engine.ruleset import Ruleset, default_rules_dir, load_ruleset

CORPUS = Path(__file__).parents[1] / "corpus"


def test_a_report_round_trips(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        str(p.relative_to(CORPUS)): p.read_text()
        for p in sorted(CORPUS.glob("*-bad/**/*"))
        if p.is_file()
    }
    files["api/quiet.py"] = "print('x')  # stopship: ignore[OBS005] a script\n"
    report = audit_files(files, ruleset, analyzer=analyzer)
    report.stats = ScanStats(3, 2, 1, {"binary": 1}, (("a.sql", "pglast: bad"),))
    assert len(report.findings) > 16 and report.suppressed and report.quick_wins
    assert report_from_json(report_to_json(report)) == report
    # few findings are written row by row rather than column by column
    report.findings = report.findings[:3]
    assert report_from_json(report_to_json(report)) == report


def test_what_is_not_a_report_is_refused() -> None:
    for text in ("[]", "[1, 2]", '{"a": 1}'):
        with pytest.raises((TypeError, ValueError)):
            report_from_json(text)


class _Store:
    def __init__(self) -> None:
        self.kept: dict[str, str] = {}
        self.asked: list[str] = []

    def parsed_rules(self, digest: str) -> str | None:
        self.asked.append(digest)
        return self.kept.get(digest)

    def remember_parsed_rules(self, digest: str, text: str) -> None:
        self.kept[digest] = text


def test_the_parsed_rules_store_gives_the_same_catalogue(tmp_path: Path) -> None:
    store = _Store()
    fresh = load_ruleset(store=store)
    assert len(store.kept) == 1
    again = load_ruleset(store=store)
    assert again.rules == fresh.rules and again.facts == fresh.facts
    assert again.digest == fresh.digest
    # another set of files has another digest: the store's entry is not used for it
    folder = tmp_path / "rules"
    folder.mkdir()
    for file in default_rules_dir().glob("*.yml"):
        (folder / file.name).write_bytes(file.read_bytes() + b"\n# edited\n")
    edited = load_ruleset(folder, store=store)
    assert edited.digest != fresh.digest
    assert len(store.kept) == 2
