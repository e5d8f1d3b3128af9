"""`pip install stopship` is enough for `stopship check` and the Action: the GitHub App's server
stack is the `app` extra, imported only by `serve`, `worker` and `db`, which say how to install
it when it is missing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.app_extra import APP_MODULES, OPTIONAL_APP_MODULES, missing_app_modules
from app.cli import cli

ROOT = Path(__file__).parents[1]
GOOD = ROOT / "tests" / "corpus" / "fastapi-good"
# stopship's own modules that belong to the App (they import the server stack)
APP_PACKAGES = ("app.web", "app.jobs", "app.store", "app.github", "app.settings", "app.logs")

_IMPORTED = """
import json, sys
sys.argv = ["stopship", "check", sys.argv[1], "--format", "json", "--no-cache", "--jobs", "1"]
try:
    import app.action  # the Action's entry point, besides the CLI
    from app.cli import main
    main()
except SystemExit:
    pass
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_stopship_check_and_the_action_import_no_server_module() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _IMPORTED, str(GOOD)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert json.loads(run.stdout)["grade"] in {"A", "B"}  # it did audit
    imported = set(json.loads(run.stderr.strip().splitlines()[-1]))
    server = sorted(
        m
        for m in imported
        if m.split(".")[0] in APP_MODULES + OPTIONAL_APP_MODULES
        or m.startswith(tuple(p + "." for p in APP_PACKAGES))
        or m in APP_PACKAGES
    )
    assert server == []


def test_the_app_extra_is_the_modules_the_server_commands_check_for() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = {
        _normalise(re.split(r"[\[<>=~!; ]", d, maxsplit=1)[0])
        for d in pyproject["project"]["optional-dependencies"]["app"]
    }
    distributions = packages_distributions()
    checked = {_normalise(distributions[m][0]) for m in APP_MODULES + OPTIONAL_APP_MODULES}
    assert checked == extra
    core = {
        _normalise(re.split(r"[\[<>=~!; ]", d, maxsplit=1)[0])
        for d in pyproject["project"]["dependencies"]
    }
    assert not core & extra


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["db", "upgrade"]])
def test_a_server_command_without_the_app_extra_says_what_to_install(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if fastapi and procrastinate were not installed (None in sys.modules: not importable)
    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.setitem(sys.modules, "procrastinate", None)
    assert missing_app_modules() == ["fastapi", "procrastinate"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert f"stopship {' '.join(command)} runs the GitHub App" in result.stderr
    assert "pip install 'stopship[app]'" in result.stderr
    assert "fastapi, procrastinate" in result.stderr
