"""What a judged commit's report says beyond its tree, read from GitHub and the database: the
repository's open Dependabot alerts (counted as findings, or `not checked` when the App may not
read them), whether merges into a judged release branch wait for the check (a push to it or a
pull request into it), and the default branch's score trend. GitHub's answers are kept a few
minutes (app/jobs/kept_answers.py)."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import structlog
from githubkit import GitHub
from githubkit.exception import RequestFailed
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import StopshipConfig
from app.engine.gate import GateContext, decide
from app.engine.model import Waiver
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.vulnerable_dependencies import VulnerableDependency, findings_of, merged
from app.github import branch_rules, dependabot
from app.jobs.kept_answers import KeptAnswers
from app.store import score_history
from app.store.models import Repository

log = structlog.get_logger()
NOT_CHECKED_ALERTS = (
    "Dependabot alerts (the App may not read them: grant it *Dependabot alerts: read* and turn "
    "Dependabot alerts on for the repository)"
)

Alerts = list[VulnerableDependency] | None  # None: the App may not read them


class _Kept:
    """This process's answers of GitHub kept a few minutes (per database, as the tags are)."""

    def __init__(self) -> None:
        self.enforcement: KeptAnswers[branch_rules.BranchEnforcement] = KeptAnswers()
        self.alerts: KeptAnswers[Alerts] = KeptAnswers()


_kept: WeakKeyDictionary[async_sessionmaker[AsyncSession], _Kept] = WeakKeyDictionary()


def kept_of(sessions: async_sessionmaker[AsyncSession]) -> _Kept:
    found = _kept.get(sessions)
    if found is None:
        found = _kept[sessions] = _Kept()
    return found


async def _alerts(gh: GitHub[Any], owner: str, name: str) -> Alerts:
    try:
        return await dependabot.open_alerts(gh, owner, name)
    except dependabot.AlertsUnreadable:
        return None


async def with_alerts(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    name: str,
    report: Report,
    rules: Ruleset,
    config: StopshipConfig,
    waivers: dict[str, Waiver],
) -> Report:
    """`report` with the open high and critical Dependabot alerts counted, or saying they were
    not checked."""
    key = f"{owner}/{name}".lower()
    alerts = await kept_of(sessions).alerts.get(key, lambda: _alerts(gh, owner, name))
    if alerts is None:
        report.not_checked = (*report.not_checked, NOT_CHECKED_ALERTS)
        return report
    return merged(report, findings_of(alerts, rules, config), rules, config, waivers)


async def enforcement_line(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    name: str,
    context: GateContext,
) -> str:
    """The sentence on whether merges into the judged release branch wait for the check ("" when
    the run judges no release branch, or is not a push or pull request)."""
    if context.kind not in ("push", "pull_request") or not context.release:
        return ""
    try:
        key = f"{owner}/{name}".lower() + f":{context.branch}"
        found = await kept_of(sessions).enforcement.get(
            key, lambda: branch_rules.enforcement(gh, owner, name, context.branch)
        )
    except RequestFailed as exc:
        if exc.response.status_code >= 500:
            raise
        log.warning(
            "branch rules unreadable", repo=f"{owner}/{name}", status=exc.response.status_code
        )
        found = branch_rules.BranchEnforcement(context.branch, "unknown")
    return branch_rules.describe(found)


async def trend_of(
    sessions: async_sessionmaker[AsyncSession],
    repository_id: int,
    default_branch: str | None,
    current: int | None,
) -> tuple[int, ...]:
    """The default branch's last scores, oldest first, `current` (this judgement's score, when it
    is of the default branch) last; the default branch as the delivery names it, else as stored."""
    async with sessions() as session:
        if not default_branch:
            repository = await session.get(Repository, repository_id)
            default_branch = repository.default_branch if repository is not None else None
        if not default_branch:
            return ()
        limit = score_history.HISTORY - (current is not None)
        scores = await score_history.scores(session, repository_id, default_branch, limit)
    return scores + ((current,) if current is not None else ())


async def add_context(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    repository_id: int,
    owner: str,
    name: str,
    report: Report,
    rules: Ruleset,
    config: StopshipConfig,
    waivers: dict[str, Waiver],
    context: GateContext,
    default_branch: str | None,
) -> Report:
    """`report` with the alerts, the enforcement line, the trend and the gate's reason (again:
    the alerts may change it)."""
    report = await with_alerts(gh, sessions, owner, name, report, rules, config, waivers)
    report.branch_protection = await enforcement_line(gh, sessions, owner, name, context)
    on_default = context.kind == "push" and bool(default_branch)
    on_default = on_default and context.branch == default_branch
    current = report.score if on_default else None
    report.score_history = await trend_of(sessions, repository_id, default_branch, current)
    report.gate_reason = decide(report, context).reason
    return report
