"""The CLI's cache is trusted: so it never lives in the tree being audited, where the code under
audit (a pull request) could plant results that hide its own findings."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.checkout.audit_local import LocalAuditError, audit_checkout
from app.checkout.result_cache import ResultCache
from app.cli import cli
from app.engine.model import FileResult

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "service"
    shutil.copytree(CORPUS / "fastapi-bad", root)
    monkeypatch.delenv("STOPSHIP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return root


def poisoned_cache(tree: Path, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache whose every file result is empty: what a pull request would plant."""
    monkeypatch.setenv("STOPSHIP_CACHE_DIR", str(directory))
    audit_checkout(tree, use_cache=True, jobs=1)
    monkeypatch.delenv("STOPSHIP_CACHE_DIR")
    with sqlite3.connect(directory / "results.sqlite3") as db:
        keys = [key for (key,) in db.execute("SELECT key FROM results")]
        db.execute("DELETE FROM reports")
    cache = ResultCache(directory)
    cache.put_many(dict.fromkeys(keys, FileResult()))
    cache.close()


def test_the_default_cache_lives_outside_the_audited_tree(tree: Path, tmp_path: Path) -> None:
    report, _ = audit_checkout(tree, use_cache=True, jobs=1)
    assert report.findings
    assert not (tree / ".stopship_cache").exists()
    assert (tmp_path / "user-cache" / "stopship" / "results.sqlite3").is_file()
    again, _ = audit_checkout(tree, use_cache=True, jobs=1)
    assert again.stats.files_analyzed == 0  # the user cache served the second run


def test_a_cache_planted_in_the_tree_is_never_read(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "planted"
    poisoned_cache(tree, planted, monkeypatch)
    monkeypatch.setenv("STOPSHIP_CACHE_DIR", str(planted))
    hidden, _ = audit_checkout(tree, use_cache=True, jobs=1)
    assert not [f for f in hidden.findings if f.path]  # the poison works where it is trusted
    monkeypatch.delenv("STOPSHIP_CACHE_DIR")
    shutil.copytree(planted, tree / ".stopship_cache")  # committed by a pull request
    report, _ = audit_checkout(tree, use_cache=True, jobs=1)
    uncached, _ = audit_checkout(tree, use_cache=False, jobs=1)
    assert "SEC002" in {f.rule for f in report.findings}
    assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in uncached.findings]


def test_a_cache_directory_inside_the_tree_is_refused(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOPSHIP_CACHE_DIR", str(tree / "cache"))
    with pytest.raises(LocalAuditError, match=r"STOPSHIP_CACHE_DIR .* is inside the audited"):
        audit_checkout(tree, use_cache=True, jobs=1)
    result = CliRunner().invoke(cli, ["check", str(tree)])
    assert result.exit_code == 2
    assert "inside the audited" in result.output
    assert audit_checkout(tree, use_cache=False, jobs=1)[0].findings  # --no-cache still works
