"""`stopship check` judges migrations against the release the next deployment builds on: the
latest release tag reachable from HEAD, `baseline:` in the config, or `--baseline`; migrations up
to it are counted as applied, never reported; without any baseline every migration is judged and
the report says how to set one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from tests.gitrepo import git

runner = CliRunner()
NOT_NULL = "ALTER TABLE {table} ADD COLUMN status text NOT NULL;\n"


def check(*args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = runner.invoke(cli, ["check", *args, "--no-cache", "--jobs", "1", "-f", "json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def migration(repo: Path, number: int, table: str) -> str:
    path = f"db/migrations/{number:04d}_{table}_status.sql"
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(NOT_NULL.format(table=table))
    return path


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def judged(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["path"] for f in report["findings"] if f["rule"] == "DEP008"}


def history(tmp_path: Path) -> tuple[Path, list[str]]:
    """0001 released in v1.0.0, 0002 released in v1.1.0-rc1, 0003 committed since, 0004 not
    committed yet."""
    repo = tmp_path / "svc"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("print('hi')\n")
    paths = [migration(repo, 1, "orders")]
    commit(repo, "orders")
    git(repo, "tag", "-a", "v1.0.0", "-m", "release 1.0.0")
    paths.append(migration(repo, 2, "users"))
    commit(repo, "users")
    git(repo, "tag", "v1.1.0-rc1")
    git(repo, "tag", "docs-latest")
    paths.append(migration(repo, 3, "items"))
    commit(repo, "items")
    paths.append(migration(repo, 4, "carts"))
    return repo, paths


def test_migrations_up_to_the_latest_release_tag_are_treated_as_applied(tmp_path: Path) -> None:
    repo, paths = history(tmp_path)
    _, report, _ = check(str(repo))
    assert judged(report) == set(paths[2:])  # committed since the tag, and not yet committed
    assert report["migrations"]["baseline"] == "v1.1.0-rc1"
    assert report["migrations"]["summary"] == (
        "2 migration(s) up to v1.1.0-rc1 treated as applied; "
        "2 added or changed since then judged"
    )


def test_a_migration_changed_after_the_release_is_judged_again(tmp_path: Path) -> None:
    repo, paths = history(tmp_path)
    (repo / paths[0]).write_text(NOT_NULL.format(table="orders") + "-- edited\n")
    _, report, _ = check(str(repo))
    assert paths[0] in judged(report)


def test_release_tag_globs_from_the_config_leave_pre_releases_out(tmp_path: Path) -> None:
    repo, paths = history(tmp_path)
    (repo / ".github").mkdir()
    (repo / ".github/stopship.yml").write_text("release_tags: ['v[0-9]*', '!*-*']\n")
    _, report, _ = check(str(repo))
    assert report["migrations"]["baseline"] == "v1.0.0"
    assert judged(report) == set(paths[1:])


def test_the_baseline_option_and_config_name_the_release(tmp_path: Path) -> None:
    repo, paths = history(tmp_path)
    _, report, _ = check(str(repo), "--baseline", "v1.0.0")
    assert judged(report) == set(paths[1:])
    assert report["migrations"]["source"] == "--baseline"
    (repo / ".github").mkdir()
    (repo / ".github/stopship.yml").write_text("baseline: main\n")
    _, report, _ = check(str(repo))
    assert judged(report) == {paths[3]}  # only what is not committed on main
    _, report, _ = check(str(repo), "--baseline", "v1.0.0")  # the option wins over the config
    assert judged(report) == set(paths[1:])


def test_an_unknown_baseline_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    repo, _ = history(tmp_path)
    code, _, err = check(str(repo), "--baseline", "v9.9.9")
    assert code == 2
    assert "--baseline: 'v9.9.9' is not a commit" in err
    (repo / ".github").mkdir()
    (repo / ".github/stopship.yml").write_text("baseline: release-2020\n")
    code, _, err = check(str(repo))
    assert code == 2
    assert ".github/stopship.yml: baseline: 'release-2020' is not a commit" in err


def test_the_judged_commits_own_tag_is_the_release_being_made(tmp_path: Path) -> None:
    repo, paths = history(tmp_path)
    commit(repo, "carts")
    git(repo, "tag", "v1.1.0")
    _, report, _ = check(str(repo))
    assert report["migrations"]["baseline"] == "v1.1.0-rc1"
    assert judged(report) == set(paths[2:])


def test_without_tags_or_history_every_migration_is_judged_and_the_report_says_why(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    paths = [migration(repo, 1, "orders"), migration(repo, 2, "users")]
    _, report, _ = check(str(repo))
    assert judged(report) == set(paths)
    assert report["migrations"]["baseline"] is None
    result = runner.invoke(cli, ["check", str(repo), "--no-cache", "--jobs", "1"])
    assert "Migrations: 2 migration(s) judged: no release baseline" in result.stdout
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "no tag yet")
    _, report, _ = check(str(repo))
    assert judged(report) == set(paths)


def test_a_pull_requests_own_migrations_are_always_judged(tmp_path: Path) -> None:
    """--changed-since (a pull request's base) adds its files to what changed since the release,
    even when the baseline named is later than the pull request's base."""
    repo, paths = history(tmp_path)
    commit(repo, "carts")
    _, report, _ = check(str(repo), "--baseline", "main", "--changed-since", "HEAD~1")
    assert judged(report) == {paths[3]}
