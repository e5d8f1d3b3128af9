"""The composite GitHub Action's entry point (`python -m app.action`).

Everything comes from environment variables, as the runner sets them (inputs are passed as
`INPUT_*` by action.yml's `env:`, never interpolated into shell code): it audits the checkout,
writes the Markdown report to the job summary, prints annotations as workflow commands (stop-ship
first, no more than GitHub shows), sets the step outputs, optionally writes SARIF, and exits
non-zero only when the gate fails (never because something could not be posted: a pull request
from a fork gets a read-only token, and this step needs none).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.checkout.audit_local import LocalAuditError, audit_checkout
from app.checkout.git import GitError, suppressions_at
from app.checkout.git import changed_since as git_changed_since
from app.engine.audit import SuppressionPolicy
from app.engine.config import CONFIG_PATH, ConfigError, StopshipConfig, parse_config
from app.engine.gate import FailOn, GateContext, decide, suppression_trust
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.render import renderer_for
from app.render.github import command
from app.render.markdown import full_audit

# GitHub shows at most 10 error and 10 warning annotations per step (and 50 per job).
ANNOTATIONS_PER_LEVEL = 10
SUMMARY_LIMIT = 1_000_000  # the job summary accepts up to 1 MiB per step


def emit(line: str) -> None:
    """Write one line of the runner protocol (workflow commands, messages) to stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class ActionError(Exception):
    """A problem with the action's inputs (reported as a workflow error, exit code 2)."""


@dataclass(frozen=True)
class Inputs:
    path: Path
    config: Path | None
    fail_on: FailOn
    min_score: int | None
    changed_since: str | None
    sarif: Path | None
    # None: as the config's `vulnerabilities:` says
    vulnerabilities: bool | None = None


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def read_inputs(workspace: Path) -> Inputs:
    fail_on = _env("INPUT_FAIL_ON") or "stop-ship"
    try:
        fail = FailOn(fail_on)
    except ValueError:
        raise ActionError(
            f"input fail-on: {fail_on!r} is not one of stop-ship, high, never"
        ) from None
    min_score: int | None = None
    if _env("INPUT_MIN_SCORE"):
        try:
            min_score = int(_env("INPUT_MIN_SCORE"))
        except ValueError:
            value = _env("INPUT_MIN_SCORE")
            raise ActionError(f"input min-score: {value!r} is not a number") from None
        if not 0 <= min_score <= 100:
            raise ActionError(f"input min-score: {min_score} is not between 0 and 100")
    path = (workspace / (_env("INPUT_PATH") or ".")).resolve()
    if not path.is_relative_to(workspace.resolve()):
        raise ActionError(f"input path: {_env('INPUT_PATH')!r} is outside the workspace")
    config = (workspace / _env("INPUT_CONFIG")).resolve() if _env("INPUT_CONFIG") else None
    sarif_value = _env("INPUT_SARIF")
    sarif = None
    if sarif_value and sarif_value.lower() not in {"false", "no", "0"}:
        name = "stopship.sarif" if sarif_value.lower() in {"true", "yes", "1"} else sarif_value
        sarif = (workspace / name).resolve()
    vulnerabilities_value = _env("INPUT_VULNERABILITIES").lower()
    vulnerabilities: bool | None = None
    if vulnerabilities_value in {"true", "yes", "1"}:
        vulnerabilities = True
    elif vulnerabilities_value in {"false", "no", "0"}:
        vulnerabilities = False
    elif vulnerabilities_value:
        raise ActionError(f"input vulnerabilities: {vulnerabilities_value!r} is not true or false")
    return Inputs(
        path,
        config,
        fail,
        min_score,
        _env("INPUT_CHANGED_SINCE") or None,
        sarif,
        vulnerabilities,
    )


def _event() -> dict[str, object]:
    event_path = _env("GITHUB_EVENT_PATH")
    if not event_path or not Path(event_path).is_file():
        return {}
    try:
        data = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git") or "git"
    return subprocess.run(  # noqa: S603 (fixed git arguments, no shell)
        [git, *args], cwd=cwd, capture_output=True, timeout=60, check=False
    )


def pull_request_base(event: dict[str, object]) -> tuple[str, str] | None:
    """(base sha, base ref) of a pull_request event, else None."""
    pr = event.get("pull_request")
    if not isinstance(pr, dict):
        return None
    base = pr.get("base")
    if not isinstance(base, dict) or not isinstance(base.get("sha"), str):
        return None
    return str(base["sha"]), str(base.get("ref", ""))


def base_branch_config(path: Path, base_sha: str) -> Path | None:
    """The base commit's `.github/stopship.yml` (or an empty one when it has none) in a temporary
    file; None when the base commit cannot be read. Like the App, a pull request is judged by
    the rules of the branch it wants to enter, so it cannot relax its own gate."""
    top = _git(path, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None
    root = Path(top.stdout.decode().strip())
    if _git(root, "cat-file", "-e", f"{base_sha}^{{commit}}").returncode != 0:
        _git(root, "fetch", "--no-tags", "--depth=1", "origin", base_sha)
    if _git(root, "cat-file", "-e", f"{base_sha}^{{commit}}").returncode != 0:
        return None
    shown = _git(root, "show", f"{base_sha}:{CONFIG_PATH}")
    # no config on the base branch means the defaults, not the pull request's new file
    content = shown.stdout if shown.returncode == 0 else b"{}\n"
    handle = tempfile.NamedTemporaryFile(prefix="stopship-base-", suffix=".yml", delete=False)  # noqa: SIM115
    with handle:
        handle.write(content)
    return Path(handle.name)


def annotation_commands(report: Report) -> list[str]:
    """Workflow commands, stop-ship first, at most ANNOTATIONS_PER_LEVEL per level; when some
    are left out, the notice saying so takes one of the notices' places (GitHub drops the 11th)."""
    ordered = sorted(report.findings, key=lambda f: (not f.stop_ship, -f.severity.rank))
    commands = [command(finding, report.root_prefix) for finding in ordered]
    levels = [line[2 : line.index(" ")] for line in commands]
    too_many = any(levels.count(level) > ANNOTATIONS_PER_LEVEL for level in set(levels))
    cap = {"notice": ANNOTATIONS_PER_LEVEL - 1} if too_many else {}
    shown: dict[str, int] = {}
    lines: list[str] = []
    left_out = 0
    for line, level in zip(commands, levels, strict=True):
        if shown.get(level, 0) >= cap.get(level, ANNOTATIONS_PER_LEVEL):
            left_out += 1
            continue
        shown[level] = shown.get(level, 0) + 1
        lines.append(line)
    if left_out:
        lines.append(
            f"::notice title=stopship::{left_out} more finding(s) are in the job summary and SARIF"
        )
    return lines


def _append(path_var: str, text: str) -> None:
    target = _env(path_var)
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:  # never fail the gate over a summary or output file
        emit(f"::warning title=stopship::could not write ${path_var}: {exc}")


def write_outputs(report: Report, sarif: Path | None) -> None:
    values = {
        "score": str(report.score),
        "grade": report.grade,
        "verdict": report.verdict,
        "stop-ship-count": str(len(report.stop_ship)),
        "sarif-file": str(sarif) if sarif else "",
    }
    _append("GITHUB_OUTPUT", "".join(f"{k}={v}\n" for k, v in values.items()))


def run() -> int:
    workspace = Path(_env("GITHUB_WORKSPACE") or ".").resolve()
    try:
        inputs = read_inputs(workspace)
    except ActionError as exc:
        emit(f"::error title=stopship::{exc}")
        return 2
    event = _event()
    base = pull_request_base(event)
    changed_since = inputs.changed_since or (base[0] if base else None)
    config = inputs.config
    if config is None and base is not None:
        config = base_branch_config(inputs.path, base[0])
        if config is not None:
            emit(f"stopship: using {CONFIG_PATH} from the base branch {base[1] or base[0]}")
        else:
            emit(
                f"::warning title=stopship::base commit {base[0]} is not readable; "
                f"using the pull request's own {CONFIG_PATH}"
            )
    if changed_since:
        known = _git(inputs.path, "cat-file", "-e", f"{changed_since}^{{commit}}")
        if known.returncode != 0:  # a shallow checkout: fetch just the base commit
            _git(inputs.path, "fetch", "--no-tags", "--depth=1", "origin", changed_since)
    context = gate_context(inputs, config, event, base)
    policy = _trusted_suppressions(inputs.path, context, base)
    try:
        report, ruleset = _audit(inputs, config, changed_since, policy)
    except LocalAuditError as exc:
        emit(f"::error title=stopship::{exc}")
        _append("GITHUB_STEP_SUMMARY", f"## stopship could not audit this commit\n\n{exc}\n")
        return 2
    outcome = decide(report, context)
    report.gate_reason = outcome.reason
    _publish(report, ruleset, inputs)
    emit(f"stopship: gate {outcome.reason}")
    return outcome.exit_code


def gate_context(
    inputs: Inputs, config: Path | None, event: dict[str, object], base: tuple[str, str] | None
) -> GateContext:
    """The gate's context, as the App judges the same commit: a pull request into its base
    branch, a push to its branch (release branches from the trusted config), else a local run."""
    settings = _config(config or inputs.path / CONFIG_PATH)
    fail_on = inputs.fail_on
    if base is not None:
        return GateContext(
            "pull_request",
            base[1],
            settings.release_branches,
            settings.conclusion_outside_release,
            fail_on=fail_on,
            min_score=inputs.min_score,
        )
    ref = str(event.get("ref") or "")
    branch = _env("GITHUB_REF_NAME") if _env("GITHUB_REF_TYPE") == "branch" else ""
    branch = branch or (ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "")
    if _env("GITHUB_EVENT_NAME") == "push" and branch:
        return GateContext(
            "push",
            branch,
            settings.release_branches,
            settings.conclusion_outside_release,
            fail_on=fail_on,
            min_score=inputs.min_score,
        )
    return GateContext("local", fail_on=fail_on, min_score=inputs.min_score)


def _config(path: Path) -> StopshipConfig:
    try:
        return parse_config(path.read_bytes() if path.is_file() else None, str(path))
    except (ConfigError, OSError):
        return StopshipConfig()  # the audit itself reports the invalid config (exit code 2)


def _trusted_suppressions(
    path: Path, context: GateContext, base: tuple[str, str] | None
) -> SuppressionPolicy | None:
    """On a pull request, a suppression of a stop-ship counts only where the base had it."""
    if base is None or context.trusts_head:
        return None
    try:
        changed = git_changed_since(path, base[0])
    except GitError:
        return suppression_trust(context, {})  # nothing of the base readable: none trusted
    return suppression_trust(context, suppressions_at(path, base[0], changed), changed)


def _audit(
    inputs: Inputs,
    config: Path | None,
    changed_since: str | None,
    policy: SuppressionPolicy | None = None,
) -> tuple[Report, Ruleset]:
    try:
        return audit_checkout(
            inputs.path,
            config_file=config,
            changed_since=changed_since,
            suppression_policy=policy,
            vulnerabilities=inputs.vulnerabilities,
        )
    except LocalAuditError as exc:
        if changed_since and changed_since in str(exc):
            # a base commit that cannot be fetched: judge the whole tree rather than nothing
            emit(f"::warning title=stopship::{exc}; reporting on every file")
            return audit_checkout(
                inputs.path,
                config_file=config,
                suppression_policy=policy,
                vulnerabilities=inputs.vulnerabilities,
            )
        raise


def _publish(report: Report, ruleset: Ruleset, inputs: Inputs) -> None:
    _append("GITHUB_STEP_SUMMARY", full_audit(report, ruleset, max_chars=SUMMARY_LIMIT) + "\n")
    for line in annotation_commands(report):
        emit(line)
    sarif = inputs.sarif
    if sarif is not None:
        try:
            sarif.parent.mkdir(parents=True, exist_ok=True)
            sarif.write_text(renderer_for("sarif")(report, ruleset), encoding="utf-8")
        except OSError as exc:
            emit(f"::warning title=stopship::could not write {sarif}: {exc}")
            sarif = None
    write_outputs(report, sarif)
    emit(f"stopship: score {report.score}/100 ({report.grade}), {report.verdict}")


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
