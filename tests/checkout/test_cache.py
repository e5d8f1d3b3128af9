"""The CLI's cache: a warm run gives the cold run's report without reading or analysing a file,
and anything that changes the answer (a file, the configuration, a damaged entry) is noticed."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from app.checkout import audit_local
from app.checkout.audit_local import audit_checkout
from app.checkout.directory import list_files
from app.engine.report import Report, ScanStats

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "service"
    shutil.copytree(CORPUS / "fastapi-bad", root)
    monkeypatch.setenv("STOPSHIP_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _audit(root: Path, jobs: int = 1) -> Report:
    report, _ = audit_checkout(root, use_cache=True, jobs=jobs)
    return report


def _without_stats(report: Report) -> Report:
    return replace(report, stats=ScanStats())


def test_a_warm_run_gives_the_cold_report_and_analyses_nothing(tree: Path) -> None:
    cold = _audit(tree)
    assert cold.stats.files_analyzed > 0 and cold.findings
    warm = _audit(tree)
    assert warm.stats.files_analyzed == 0
    assert warm.stats.cache_hits == cold.stats.files_analyzed
    assert warm.stats.files_total == cold.stats.files_total
    assert warm.stats.skipped == cold.stats.skipped
    assert _without_stats(warm) == _without_stats(cold)
    uncached, _ = audit_checkout(tree, use_cache=False, jobs=1)
    assert _without_stats(uncached) == _without_stats(cold)


def test_an_unchanged_tree_reuses_the_report_without_scanning(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _audit(tree)

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the unchanged tree was scanned again")

    monkeypatch.setattr(audit_local, "scan_snapshot", no_scan)
    warm = _audit(tree)
    assert _without_stats(warm) == _without_stats(cold)


def test_a_listing_identity_depends_only_on_paths_and_stamps(tree: Path) -> None:
    first = list_files(tree)
    held = [item for _, item in first.items]  # other references to the stamps
    assert list_files(tree).identity == first.identity
    assert held


def test_a_changed_file_is_analysed_again_and_only_it(tree: Path) -> None:
    cold = _audit(tree)
    target = next(p for p in sorted(tree.rglob("*.py")) if p.stat().st_size > 0)
    target.write_text(target.read_text() + "\nAPI_TOKEN = 'sk_live_abcdefghijklmnopqrstuvwx'\n")
    warm = _audit(tree)
    assert warm.stats.files_analyzed == 1
    assert warm.stats.cache_hits == cold.stats.files_analyzed - 1
    uncached, _ = audit_checkout(tree, use_cache=False, jobs=1)
    assert _without_stats(warm) == _without_stats(uncached)
    assert warm.findings != cold.findings


def test_a_new_configuration_is_applied_to_an_unchanged_tree(tree: Path) -> None:
    cold = _audit(tree)
    rule = cold.findings[0].rule
    (tree / ".github").mkdir(exist_ok=True)
    (tree / ".github" / "stopship.yml").write_text(f"rules:\n  disable: [{rule}]\n")
    warm = _audit(tree)
    assert rule not in {f.rule for f in warm.findings}
    assert warm.stats.files_analyzed == 1  # only the configuration file itself is new


def test_a_damaged_cache_is_a_miss(tree: Path, tmp_path: Path) -> None:
    cold = _audit(tree)
    db = sqlite3.connect(tmp_path / "cache" / "results.sqlite3")
    with db:
        db.execute("UPDATE reports SET value = '[1, 2'")
        db.execute("UPDATE trees SET blobs = 'not json'")
        db.execute("UPDATE parsed_rules SET value = '{}'")
    db.close()
    again = _audit(tree)
    assert _without_stats(again) == _without_stats(cold)


def test_worker_processes_find_what_one_process_finds(tree: Path) -> None:
    # enough files for the pool to be used
    for i in range(70):
        (tree / "api" / f"extra_{i}.py").write_text(f"import requests\nrequests.get('u{i}')\n")
    parallel = _audit(tree, jobs=2)
    serial, _ = audit_checkout(tree, use_cache=False, jobs=1)
    assert parallel.stats.files_analyzed == serial.stats.files_analyzed
    assert _without_stats(parallel) == _without_stats(serial)
