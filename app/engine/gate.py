"""The gate policy: one pure decision from a Report and the context a commit is judged in to what
every face does with it (check-run conclusion, CLI / Action exit code, deployment review), with
the trust rules for configuration and suppressions, and the one-line reason all of them show.

Contexts and what fails them:

- a push to a branch, a pull request (judged by its base branch), a merge group: on a release
  branch the gate fails while a finding at `fail_on` is open (stop-ship by default); elsewhere it
  never fails: `success` without such findings, else the configured conclusion (`neutral`);
- a deployment to an environment: rejected when the verdict is NOT READY (an open stop-ship, a
  score under the minimum, security under the strictness' floor), or while an attestation the
  launch stage requires is unconfirmed (`/production confirm`);
- a local run (`stopship check`, the Action on a push): fails on findings at `fail_on`, or a
  score under `min_score` (the explicit one, else the strictness profile's unless `fail_on` is
  `never`);
- a commit being made (`stopship check --staged`, the pre-commit hook): fails only on findings at
  `fail_on` that the staged change introduces (`report.baseline`), or a score under an explicit
  `min_score`: the tree's older findings and score are not the commit's doing.

Attestations (what people confirm: backups, rollback, ...) gate deployments only. Elsewhere an
unconfirmed one is named in the reason and is an unmet item of the checklist, but fails nothing:
code cannot show it, and failing every pull request of a new installation until someone confirms
would teach people to ignore the check; the local run has no store of confirmations at all.

Trust: a pull request or merge group is judged with its *base's* config, and an inline
suppression (ours or another tool's) of a stop-ship finding counts only when the base already had
it in that file; a push, a deployment and a local run judge the commit with its own.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Literal

from app.engine.audit import SuppressionPolicy
from app.engine.model import FileResult, Finding, Suppression
from app.engine.report import Report
from app.engine.scoring import NOT_READY

Kind = Literal["push", "pull_request", "merge_group", "deployment", "local", "commit"]


class FailOn(StrEnum):
    """What fails the gate: stop-ship findings (the default), also high-severity ones, nothing."""

    stop_ship = "stop-ship"
    high = "high"
    never = "never"


Conclusion = Literal["success", "neutral", "failure"]


@dataclass(frozen=True)
class GateContext:
    """Where a commit is judged. `branch`: the pushed branch, or a pull request's / merge
    group's base branch; `environment`: a deployment's; `release_branches` and `outside` come
    from the (trusted) config; `fail_on` and `min_score` from the CLI or the Action."""

    kind: Kind
    branch: str = ""
    release_branches: tuple[str, ...] = ()
    outside: Literal["success", "neutral"] = "neutral"
    environment: str = ""
    fail_on: FailOn = FailOn.stop_ship
    min_score: int | None = None

    @property
    def release(self) -> bool:
        """Whether the gate applies: the branch is a release branch (a deployment and a local
        run always gate)."""
        if self.kind in ("deployment", "local", "commit"):
            return True
        return any(fnmatchcase(self.branch, glob) for glob in self.release_branches)

    @property
    def trusts_head(self) -> bool:
        """Whether the judged commit's own config and new suppressions are trusted (not for a
        pull request or merge group: a change may not relax its own gate)."""
        return self.kind not in ("pull_request", "merge_group")

    def where(self) -> str:
        if self.kind == "push":
            return f"on a push to {self.branch or 'a branch'}"
        if self.kind == "pull_request":
            return f"on a pull request into {self.branch or 'its base'}"
        if self.kind == "merge_group":
            return f"in the merge queue of {self.branch or 'its base'}"
        if self.kind == "deployment":
            return f"for a deployment to {self.environment or 'an environment'}"
        if self.kind == "commit":
            return "in the staged change"
        return ""


@dataclass(frozen=True)
class GateOutcome:
    passed: bool
    conclusion: Conclusion
    exit_code: int
    deployment: Literal["approved", "rejected"]
    reason: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def blocking(report: Report, fail_on: FailOn) -> list[Finding]:
    """The open findings that fail the gate at `fail_on`."""
    return _blocking(report.findings, fail_on)


def _blocking(findings: list[Finding], fail_on: FailOn) -> list[Finding]:
    if fail_on == "never":
        return []
    if fail_on == "high":
        return [f for f in findings if f.stop_ship or f.severity.rank >= 3]
    return [f for f in findings if f.stop_ship]


def _state(context: GateContext) -> str:
    return "introduced" if context.kind == "commit" else "open"


def _what(found: list[Finding], context: GateContext) -> str:
    state = _state(context)
    if context.fail_on == "high":
        return f"{_plural(len(found), 'stop-ship or high-severity finding')} {state}"
    return f"{_plural(len(found), 'stop-ship finding')} {state}"


def decide(report: Report, context: GateContext) -> GateOutcome:
    """The outcome of the gate for `report` judged in `context` (see the module docstring)."""
    where = context.where()
    at = f" {where}" if where else ""
    problems: list[str] = []
    if context.kind == "deployment":
        if report.verdict == NOT_READY:
            problems.append(_verdict_reason(report))
        if report.unconfirmed:
            problems.append(_unconfirmed(report))
    else:
        judged = report.findings
        if context.kind == "commit":
            judged = report.baseline.introduced if report.baseline is not None else judged
        found = _blocking(judged, context.fail_on)
        if found:
            problems.append(_what(found, context))
        floor = context.min_score
        if floor is None and context.kind == "local" and context.fail_on != "never":
            floor = report.min_score  # a local run gates on the strictness' minimum too
        if floor is not None and report.score < floor:
            problems.append(f"score {report.score} is under the minimum {floor}")
    note = _attestation_note(report, context)
    if not problems:
        reason = f"passes: {_nothing_open(report, context)}{at}{note}"
        return GateOutcome(True, "success", 0, "approved", reason)
    if not context.release:
        reason = (
            f"does not gate: {'; '.join(problems)}{at} "
            f"({context.branch} is not a release branch){note}"
        )
        return GateOutcome(True, context.outside, 0, "approved", reason)
    reason = f"fails: {'; '.join(problems)}{at}{note}"
    return GateOutcome(False, "failure", 1, "rejected", reason)


def _unconfirmed(report: Report) -> str:
    missing = report.unconfirmed
    names = ", ".join(missing)
    return f"{_plural(len(missing), 'required attestation')} unconfirmed ({names})"


def _attestation_note(report: Report, context: GateContext) -> str:
    """Outside a deployment, the unconfirmed attestations the deployment gate will ask for."""
    if context.kind in ("deployment", "commit") or not report.unconfirmed:
        return ""
    return f"; {_unconfirmed(report)}: a deployment waits for them"


def _nothing_open(report: Report, context: GateContext) -> str:
    if context.kind == "deployment":
        return f"{report.verdict}"
    if context.fail_on == "never":
        return "nothing fails the gate (fail-on never)"
    high = context.fail_on == "high"
    return f"no {'stop-ship or high-severity' if high else 'stop-ship'} finding {_state(context)}"


def _verdict_reason(report: Report) -> str:
    stops = len(report.stop_ship)
    if stops:
        return f"NOT READY, {_plural(stops, 'stop-ship finding')} open"
    if report.score < report.min_score:
        return f"NOT READY, score {report.score} is under the minimum {report.min_score}"
    return "NOT READY, security under the strictness' minimum"


def suppression_trust(
    context: GateContext,
    base: Mapping[str, FileResult] | None,
    changed: Container[str] | None = None,
) -> SuppressionPolicy | None:
    """The inline-suppression policy of `context` (None: every suppression counts): for a pull
    request or merge group, one of a stop-ship finding counts only where the base (`base`, its
    per-file results under the head's paths) already had the same suppression in that file.
    With `changed`, a file outside it is the base's own and keeps its suppressions."""
    if context.trusts_head or base is None:
        return None

    def policy(path: str, suppression: Suppression, finding: Finding) -> bool:
        if not finding.stop_ship or (changed is not None and path not in changed):
            return True
        before = base.get(path)
        return before is not None and any(
            s.rules == suppression.rules and s.tool == suppression.tool
            for s in before.suppressions
        )

    return policy
