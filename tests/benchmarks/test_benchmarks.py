"""The accuracy benchmarks run end to end on tiny repositories built here (the real ones are not
in CI): benchmarks/realworld.py compares an audit with labels, benchmarks/replay.py replays
commits as pull requests and says which ones fail the gate."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.gitrepo import git

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
INJECTION = 'def purge(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
SAFE = 'def purge(c, id_):\n    c.execute("DELETE FROM orders WHERE id = %s", (id_,))\n'
NOT_NULL = "ALTER TABLE {table} ADD COLUMN status text NOT NULL;\n"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "start", {"app/orders.py": SAFE, "README.md": "# shop\n"})
    commit(repo, "orders", {"db/migrations/0001_orders.sql": NOT_NULL.format(table="orders")})
    git(repo, "tag", "v1.0.0")
    commit(repo, "users", {"db/migrations/0002_users.sql": NOT_NULL.format(table="users")})
    return repo


def last_json(out: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out.strip().splitlines()[-1])


def test_realworld_compares_an_audit_with_its_labels(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = commit(shop, "purge", {"app/admin.py": INJECTION})
    labels = {
        "repositories": [{"repo": "octo/shop", "commit": head}],
        "mature": ["octo/shop"],
        "sample_judged_by_hand": [
            {"repo": "octo/shop", "rule": "SEC002", "path": "app/admin.py", "line": 2,
             "verdict": "TP", "why": "table name from the caller"},
            {"repo": "octo/shop", "rule": "DEP008", "path": "db/migrations/0001_orders.sql",
             "line": 1, "verdict": "TP", "why": "released in v1.0.0"},
            {"repo": "octo/shop", "rule": "DEP008", "path": "db/migrations/0002_users.sql",
             "line": 1, "verdict": "FP", "why": "pretend the table is empty"},
            {"repo": "octo/shop", "rule": "SEC001", "path": "app/orders.py", "line": 1,
             "verdict": "FP", "why": "not reported"},
        ],
        "misses_to_find": [
            {"repo": "octo/shop", "path": "app/admin.py", "line": 2, "rule": "SEC002",
             "what": "found"},
            {"repo": "octo/shop", "path": None, "line": None, "rule": None, "what": "stack",
             "text_in_stack": "rust"},
        ],
    }  # fmt: skip
    labels_file = tmp_path / "labels.json"
    labels_file.write_text(json.dumps(labels))
    assert load("realworld").main([str(shop), "--labels", str(labels_file), "--stop-ships"]) == 0
    out = capsys.readouterr().out
    figures = last_json(out)
    assert figures["labelled_tp_kept"] == 1
    assert figures["labelled_tp_in_history"] == 1  # 0001 ran with v1.0.0
    assert figures["labelled_tp_lost"] == 0
    assert figures["labelled_fp_still_stop_ship"] == 1 and figures["labelled_fp_gone"] == 1
    assert (figures["misses_found"], figures["misses"]) == (1, 2)
    assert figures["mature_not_ready_or_under_70"] == ["octo/shop"]
    shop_figures = figures["repositories"]["octo/shop"]
    assert shop_figures["stop_ship_by_rule"] == {"SEC002": 1, "DEP008": 1}
    assert "1 migration(s) up to v1.0.0 treated as applied" in shop_figures["migrations"]
    assert "db/migrations/0002_users.sql:1 -> DEP008 high STOP-SHIP" in out
    assert "MISSED octo/shop stack" in out
    assert "octo/shop SEC002 app/admin.py:2" in out.split("Every stop-ship reported")[1]


def test_replay_fails_the_gate_only_on_the_commit_that_adds_a_stop_ship(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(shop, "docs", {"README.md": "# shop\n\nOrders.\n"})
    bad = commit(shop, "purge", {"app/admin.py": INJECTION})
    commit(shop, "docs again", {"README.md": "# shop\n\nOrders and users.\n"})
    fixed = commit(shop, "fix", {"app/admin.py": SAFE.replace("orders", "admins")})
    assert load("replay").main([str(shop), "--commits", "4"]) == 0
    out = capsys.readouterr().out
    figures = last_json(out)
    assert figures["commits"] == 4
    assert [f["sha"] for f in figures["failing"]] == [bad]
    assert figures["failing"][0]["stop_ships"] == [
        {"rule": "SEC002", "path": "app/admin.py", "line": 2, "introduced": True}
    ]
    assert figures["introduced_stop_ship"] == 1
    assert f"{fixed[:8]}" in out
    assert git(shop, "worktree", "list").count("\n") == 0  # the scratch worktree is gone
