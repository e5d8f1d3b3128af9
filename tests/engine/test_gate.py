"""The gate policy as a table: every context, every fail-on and the score floor, to the
conclusion, exit code, deployment decision and reason; and the suppression trust of each."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.engine.attestations import Attestation, confirmed_statuses, required_statuses
from app.engine.gate import FailOn, GateContext, decide, suppression_trust
from app.engine.model import FileResult, Finding, Severity, Suppression
from app.engine.report import CategoryScore, FindingsDiff, Report, Stack

RELEASE = ("main", "release/*")


def finding(rule: str, severity: Severity, stop_ship: bool) -> Finding:
    return Finding(
        f"{rule}-fp",
        rule,
        rule.lower(),
        "security",
        severity,
        stop_ship,
        "app/x.py",
        2,
        "m",
        "f",
        8,
    )


def report(findings: list[Finding], score: int = 85, verdict: str = "READY") -> Report:
    return Report(
        repo="octo/shop",
        date="2030-01-01",
        stack=Stack(),
        strictness="Medium (beta launch)",
        min_score=70,
        score=score,
        grade="B",
        verdict=verdict,
        categories=[CategoryScore("security", "Security fundamentals", 25, 100, 0)],
        findings=findings,
        suppressed=[],
        quick_wins=[],
        gates=[],
        done_well=[],
        projected_score=score,
    )


STOP = report([finding("SEC002", Severity.CRITICAL, True)], verdict="NOT READY")
TWO_STOPS = report(
    [finding("SEC002", Severity.CRITICAL, True), finding("SEC001", Severity.CRITICAL, True)],
    verdict="NOT READY",
)
HIGH = report([finding("SEC010", Severity.HIGH, False)], verdict="READY WITH CONDITIONS")
LOW_SCORE = report([], score=64, verdict="NOT READY")
CLEAN = report([])

PR_MAIN = GateContext("pull_request", "main", RELEASE)
PR_FEATURE = GateContext("pull_request", "feature/x", RELEASE)
PUSH_RELEASE = GateContext("push", "release/2.1", RELEASE)
PUSH_FEATURE = GateContext("push", "feature/x", RELEASE, outside="success")
QUEUE = GateContext("merge_group", "main", RELEASE)
DEPLOY = GateContext("deployment", environment="production")
LOCAL = GateContext("local")


@pytest.mark.parametrize(
    ("rep", "context", "conclusion", "code", "deployment", "reason"),
    [
        (STOP, PR_MAIN, "failure", 1, "rejected",
         "fails: 1 stop-ship finding open on a pull request into main"),
        (TWO_STOPS, PUSH_RELEASE, "failure", 1, "rejected",
         "fails: 2 stop-ship findings open on a push to release/2.1"),
        (STOP, QUEUE, "failure", 1, "rejected",
         "fails: 1 stop-ship finding open in the merge queue of main"),
        (STOP, PR_FEATURE, "neutral", 0, "approved",
         "does not gate: 1 stop-ship finding open on a pull request into feature/x "
         "(feature/x is not a release branch)"),
        (STOP, PUSH_FEATURE, "success", 0, "approved",
         "does not gate: 1 stop-ship finding open on a push to feature/x "
         "(feature/x is not a release branch)"),
        (CLEAN, PR_MAIN, "success", 0, "approved",
         "passes: no stop-ship finding open on a pull request into main"),
        (HIGH, PR_MAIN, "success", 0, "approved",
         "passes: no stop-ship finding open on a pull request into main"),
        (LOW_SCORE, PR_MAIN, "success", 0, "approved",  # a check run gates on stop-ships only
         "passes: no stop-ship finding open on a pull request into main"),
        (STOP, DEPLOY, "failure", 1, "rejected",
         "fails: NOT READY, 1 stop-ship finding open for a deployment to production"),
        (LOW_SCORE, DEPLOY, "failure", 1, "rejected",
         "fails: NOT READY, score 64 is under the minimum 70 for a deployment to production"),
        (HIGH, DEPLOY, "success", 0, "approved",
         "passes: READY WITH CONDITIONS for a deployment to production"),
        (STOP, LOCAL, "failure", 1, "rejected", "fails: 1 stop-ship finding open"),
        (LOW_SCORE, LOCAL, "failure", 1, "rejected", "fails: score 64 is under the minimum 70"),
        (CLEAN, LOCAL, "success", 0, "approved", "passes: no stop-ship finding open"),
    ],
)  # fmt: skip
def test_the_gate_of_each_context(
    rep: Report, context: GateContext, conclusion: str, code: int, deployment: str, reason: str
) -> None:
    outcome = decide(rep, context)
    assert (outcome.conclusion, outcome.exit_code, outcome.deployment) == (
        conclusion,
        code,
        deployment,
    )
    assert outcome.reason == reason
    assert outcome.passed == (code == 0)


@pytest.mark.parametrize(
    ("rep", "fail_on", "min_score", "code", "reason"),
    [
        (HIGH, FailOn.stop_ship, None, 0, "passes: no stop-ship finding open"),
        (HIGH, FailOn.high, None, 1, "fails: 1 stop-ship or high-severity finding open"),
        (STOP, FailOn.high, None, 1, "fails: 1 stop-ship or high-severity finding open"),
        (STOP, FailOn.never, None, 0, "passes: nothing fails the gate (fail-on never)"),
        (LOW_SCORE, FailOn.never, None, 0, "passes: nothing fails the gate (fail-on never)"),
        (LOW_SCORE, FailOn.never, 60, 0, "passes: nothing fails the gate (fail-on never)"),
        (LOW_SCORE, FailOn.never, 65, 1, "fails: score 64 is under the minimum 65"),
        (CLEAN, FailOn.stop_ship, 100, 1, "fails: score 85 is under the minimum 100"),
        (STOP, FailOn.stop_ship, 90, 1,
         "fails: 1 stop-ship finding open; score 85 is under the minimum 90"),
        (LOW_SCORE, FailOn.stop_ship, 50, 0, "passes: no stop-ship finding open"),
    ],
)  # fmt: skip
def test_fail_on_and_the_score_floor_of_a_local_run(
    rep: Report, fail_on: FailOn, min_score: int | None, code: int, reason: str
) -> None:
    outcome = decide(rep, GateContext("local", fail_on=fail_on, min_score=min_score))
    assert (outcome.exit_code, outcome.reason) == (code, reason)


def test_an_explicit_minimum_applies_to_a_pull_request_too() -> None:
    context = replace(PR_MAIN, min_score=70)
    assert decide(LOW_SCORE, context).reason == (
        "fails: score 64 is under the minimum 70 on a pull request into main"
    )


def test_only_a_pull_request_or_merge_group_distrusts_its_own_suppressions() -> None:
    stop = finding("SEC002", Severity.CRITICAL, True)
    minor = finding("ERR002", Severity.HIGH, False)
    mine = Suppression(2, ("SEC002",), "checked")
    other_tool = Suppression(2, ("SEC002",), "accepted with bandit: `# nosec B608`", "bandit")
    base = {"app/x.py": FileResult(suppressions=[mine])}
    for context in (PUSH_RELEASE, DEPLOY, LOCAL):
        assert context.trusts_head and suppression_trust(context, base) is None
    for context in (PR_MAIN, QUEUE, PR_FEATURE):
        policy = suppression_trust(context, base)
        assert policy is not None
        assert policy("app/x.py", mine, stop)  # the base had it
        assert not policy("app/x.py", other_tool, stop)  # new, and another tool's
        assert policy("app/x.py", other_tool, minor)  # not a stop-ship: any suppression counts
        assert not policy("app/new.py", mine, stop)  # a file the base did not have
    limited = suppression_trust(PR_MAIN, {}, changed={"app/new.py"})
    assert limited is not None
    assert limited("app/x.py", mine, stop)  # unchanged by the pull request: the base's own
    assert not limited("app/new.py", mine, stop)


@pytest.mark.parametrize(
    ("strictness_minimum", "score", "local_code", "deploy"),
    [
        (50, 64, 0, "approved"),
        (70, 64, 1, "rejected"),
        (80, 79, 1, "rejected"),
        (80, 85, 0, "approved"),
    ],
)
def test_each_strictness_minimum_gates_a_local_run_and_a_deployment_not_a_check_run(
    strictness_minimum: int, score: int, local_code: int, deploy: str
) -> None:
    """Low / Medium / High strictness set the minimum score (50 / 70 / 80): a local run and a
    deployment gate on it (the deployment through the verdict), a pull request's check does not."""
    under = score < strictness_minimum
    rep = replace(
        report([], score=score, verdict="NOT READY" if under else "READY"),
        min_score=strictness_minimum,
    )
    assert decide(rep, LOCAL).exit_code == local_code
    assert decide(rep, DEPLOY).deployment == deploy
    assert decide(rep, PR_MAIN).conclusion == "success"


def _against_head(rep: Report, introduced: list[Finding]) -> Report:
    return replace(
        rep,
        baseline=FindingsDiff(
            "abc", introduced, [], [f for f in rep.findings if f not in introduced]
        ),
    )


OLD_STOP = _against_head(STOP, [])
NEW_STOP = _against_head(STOP, list(STOP.findings))
NEW_HIGH = _against_head(HIGH, list(HIGH.findings))
LOW_SCORE_STAGED = _against_head(LOW_SCORE, [])
COMMIT = GateContext("commit")


@pytest.mark.parametrize(
    ("rep", "context", "code", "reason"),
    [
        (OLD_STOP, COMMIT, 0, "passes: no stop-ship finding introduced in the staged change"),
        (NEW_STOP, COMMIT, 1, "fails: 1 stop-ship finding introduced in the staged change"),
        (NEW_HIGH, COMMIT, 0, "passes: no stop-ship finding introduced in the staged change"),
        (NEW_HIGH, replace(COMMIT, fail_on=FailOn.high), 1,
         "fails: 1 stop-ship or high-severity finding introduced in the staged change"),
        # the score is the whole tree's: a commit is not held to the profile's minimum...
        (LOW_SCORE_STAGED, COMMIT, 0,
         "passes: no stop-ship finding introduced in the staged change"),
        # ...only to one asked for
        (LOW_SCORE_STAGED, replace(COMMIT, min_score=70), 1,
         "fails: score 64 is under the minimum 70 in the staged change"),
    ],
)  # fmt: skip
def test_a_staged_change_fails_only_on_what_it_introduces(
    rep: Report, context: GateContext, code: int, reason: str
) -> None:
    outcome = decide(rep, context)
    assert (outcome.exit_code, outcome.reason) == (code, reason)


def _unconfirmed(items: tuple[str, ...]) -> Report:
    return replace(CLEAN, attestations=required_statuses(items))


def test_an_unconfirmed_attestation_rejects_a_deployment_and_only_notes_elsewhere() -> None:
    missing = _unconfirmed(("backups", "rollback"))
    deploy = decide(missing, GateContext("deployment", environment="production"))
    assert (deploy.passed, deploy.deployment) == (False, "rejected")
    assert deploy.reason == (
        "fails: 2 required attestations unconfirmed (backups, rollback) "
        "for a deployment to production"
    )
    # a pull request into a release branch and a local run pass, and say what a deployment awaits
    for context in (GateContext("pull_request", "main", ("main",)), GateContext("local")):
        outcome = decide(missing, context)
        assert (outcome.passed, outcome.conclusion) == (True, "success")
        assert "2 required attestations unconfirmed (backups, rollback): a deployment waits" in (
            outcome.reason
        )
    assert "attestation" not in decide(missing, GateContext("commit")).reason


def test_a_confirmed_attestation_no_longer_counts_as_missing() -> None:
    confirmed = replace(
        CLEAN,
        attestations=confirmed_statuses(
            required_statuses(("backups",)),
            {"backups": Attestation("backups", "restored last week", "ana", "2030-01-01")},
        ),
    )
    assert confirmed.unconfirmed == []
    assert decide(confirmed, GateContext("deployment")).deployment == "approved"
    [gate] = confirmed.checklist
    assert gate.passed and "confirmed by @ana on 2030-01-01: restored last week" in gate.detail
