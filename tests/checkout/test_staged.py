"""`stopship check --staged` (the pre-commit hook): the index audited against HEAD, failing only
on what the staged change introduces, in git repositories built here."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from tests.gitrepo import git

runner = CliRunner()
INJECTION = 'def q(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
CLEAN = "def add(a, b):\n    return a + b\n"


def staged(repo: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        cli, ["check", str(repo), "--staged", "--no-cache", "--jobs", "1", *args]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def new_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", ".")
    return repo


def introduced(out: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(out)["against_base"]["introduced"]
    return found


def test_the_first_commit_is_audited_whole_and_passes_when_clean(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/calc.py": CLEAN})
    code, out, err = staged(repo)
    assert code == 0, err
    assert "First commit: everything staged is new" in out
    assert "passes: no stop-ship finding introduced in the staged change" in out


def test_the_first_commit_fails_on_a_staged_stop_ship(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION})
    code, out, err = staged(repo, "--format", "json")
    assert code == 1
    assert [f["path"] for f in introduced(out) if f["stop_ship"]] == ["app/db.py"]
    assert "fails: 1 stop-ship finding introduced in the staged change" in err


def test_a_comment_in_a_file_with_old_findings_passes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION})
    git(repo, "commit", "-qm", "old")
    (repo / "app" / "db.py").write_text("# the orders table\n\n" + INJECTION)
    git(repo, "add", ".")
    code, out, err = staged(repo, "--format", "json")
    assert code == 0, err
    assert introduced(out) == []
    # the old finding is still reported (its file changed), only it does not fail the commit
    assert [f["line"] for f in json.loads(out)["findings"] if f["rule"] == "SEC002"] == [4]


def test_a_staged_stop_ship_fails_and_is_listed_as_introduced(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION, "app/calc.py": CLEAN})
    git(repo, "commit", "-qm", "old")
    (repo / "app" / "calc.py").write_text(CLEAN + INJECTION.replace("def q", "def r"))
    git(repo, "add", ".")
    code, out, err = staged(repo)
    assert code == 1
    head = git(repo, "rev-parse", "HEAD")[:7]
    assert f"Against {head}: the change introduces 1 new finding (1 stop-ship), fixes 0" in out
    introduced_part = out.split("Introduced", 1)[1]
    assert "app/calc.py:4 STOP-SHIP" in introduced_part
    assert "fails: 1 stop-ship finding introduced in the staged change" in err


def test_the_index_is_judged_not_the_work_tree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/calc.py": CLEAN})
    git(repo, "commit", "-qm", "old")
    (repo / "app" / "calc.py").write_text(CLEAN + INJECTION)
    code, _, _ = staged(repo)
    assert code == 0, "an unstaged stop-ship is not part of the commit"
    git(repo, "add", ".")
    (repo / "app" / "calc.py").write_text(CLEAN)
    code, _, _ = staged(repo)
    assert code == 1, "a staged stop-ship is, whatever the work tree holds now"
    assert git(repo, "diff", "--cached", "--name-only") == "app/calc.py", "the index is kept"


def test_a_moved_file_keeps_its_findings(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION})
    git(repo, "commit", "-qm", "old")
    git(repo, "mv", "app/db.py", "app/storage.py")
    code, out, err = staged(repo, "--format", "json")
    assert code == 0, err
    assert introduced(out) == []


def test_a_folder_inside_the_repository(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"svc/app/db.py": INJECTION, "other/x.py": CLEAN})
    git(repo, "commit", "-qm", "old")
    (repo / "other" / "x.py").write_text(CLEAN + INJECTION)
    (repo / "svc" / "app" / "db.py").write_text("# a comment\n" + INJECTION)
    git(repo, "add", ".")
    code, out, err = staged(repo / "svc", "--format", "json")
    assert code == 0, err  # the stop-ship staged in other/ is outside the audited folder
    assert {f["path"] for f in json.loads(out)["findings"] if f["path"]} == {"app/db.py"}


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(CLEAN)
    code, _, err = staged(tmp_path)
    assert code == 2 and "not in a git repository" in err


def test_quiet_lists_only_what_the_staged_change_introduces(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION})
    git(repo, "commit", "-qm", "old")
    (repo / "app" / "db.py").write_text("# comment\n" + INJECTION + INJECTION.replace("q", "r"))
    git(repo, "add", ".")
    code, out, err = staged(repo, "--quiet")
    assert code == 1
    assert out.splitlines() == [line for line in out.splitlines() if "app/db.py:5:" in line]
    assert len(out.splitlines()) == 1 and "SEC002" in out
    assert "introduced in the staged change" in err


def test_nothing_in_the_index_is_a_usage_error_that_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.py").write_text(CLEAN)
    code, _, err = staged(repo)
    assert code == 2 and "no file of" in err and "git add" in err
    assert "stopship-staged-" not in err


def test_markdown_of_a_first_commit_names_no_base(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"app/db.py": INJECTION})
    _, out, _ = staged(repo, "--format", "markdown")
    assert "### Against no base (a first commit)" in out
    assert "This change introduces **" in out
