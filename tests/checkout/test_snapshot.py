"""The snapshot of a local directory: what is read, what is skipped and counted, and blob ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.checkout.directory import directory_snapshot
from app.engine.snapshot import MAX_FILE_BYTES, git_blob_sha
from tests.gitrepo import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "service" / "app").mkdir(parents=True)
    (root / "service" / "app" / "main.py").write_text("import os\n")
    (root / "service" / "build").mkdir()
    (root / "service" / "build" / "out.py").write_text("generated = 1\n")
    (root / "service" / "node_modules" / "x").mkdir(parents=True)
    (root / "service" / "node_modules" / "x" / "index.js").write_text("module.exports = 1\n")
    (root / "service" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (root / "service" / "big.sql").write_bytes(b"-- x\n" * (MAX_FILE_BYTES // 5 + 10))
    (root / "service" / "local.env").write_text("TOKEN=1\n")
    (root / ".gitignore").write_text("build/\n*.env\n")
    (root / "README.md").write_text("# repo\n")
    git(root, "init", "-q")
    return root


def test_gitignore_is_respected_in_a_subfolder_of_a_bigger_repository(repo: Path) -> None:
    snapshot = directory_snapshot(repo / "service")
    assert snapshot.paths == ["app/main.py"]
    # node_modules is pruned by the git pathspec before listing, so it is not even counted
    assert snapshot.skipped == {"binary": 1, "larger than 1 MiB": 1}


def test_a_lock_file_over_the_size_limit_is_kept(repo: Path) -> None:
    """Lock files are not analysed, but whether one exists is (SEC015), and they grow big."""
    lock = repo / "service" / "package-lock.json"
    lock.write_bytes(b'{"lockfileVersion": 3}' + b" " * MAX_FILE_BYTES)
    snapshot = directory_snapshot(repo / "service")
    assert "package-lock.json" in snapshot.paths
    assert snapshot.skipped == {"binary": 1, "larger than 1 MiB": 1}  # big.sql still is


def test_blob_ids_are_computed_the_way_git_does(repo: Path) -> None:
    snapshot = directory_snapshot(repo / "service")
    entry = snapshot.entries[0]
    assert entry.blob_sha == git(repo, "hash-object", "service/app/main.py")
    assert git_blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_outside_git_the_default_excludes_still_apply(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("x = 1\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "site.py").write_text("x = 1\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "a.js").write_text("x\n")
    assert directory_snapshot(tmp_path).paths == ["app/main.py"]


def test_symlinks_are_not_followed_out_of_the_path(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.py").write_text("x = 1\n")
    os.symlink(outside, root / "escape.py")
    os.symlink(root / "inside.py", root / "alias.py")
    snapshot = directory_snapshot(root)
    assert snapshot.paths == ["alias.py", "inside.py"]
    assert snapshot.skipped == {"symlink outside path": 1}


def test_a_folder_the_enclosing_repository_ignores_is_audited_when_asked_for(repo: Path) -> None:
    (repo / "build" / "lib").mkdir(parents=True)  # `build/` is in the repository's .gitignore
    (repo / "build" / "lib" / "db.py").write_text("import os\n")
    snapshot = directory_snapshot(repo / "build")
    assert snapshot.paths == ["lib/db.py"]
