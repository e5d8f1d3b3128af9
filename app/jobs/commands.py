"""`/production ...` comment commands on pull requests (event `issue_comment`, action `created`).

A command is judged on the pull request's current head commit with its base branch's config, as
the pull request's check run is, and answered with one reply per kind, edited in place when the
command is repeated; a waiver and its withdrawal are records, each its own reply, never edited,
and a refusal is per person. `waive` and `unwaive` need write permission, asked from GitHub
each time. `confirm` and `unconfirm` attest what code cannot show (backups, rollback, ...) for the
repository, as records like waivers, with the same permission.
Comments on issues, comments by bots (our own included) and comments without a command are
`ignored` without a single API call. Comment bodies are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from githubkit import GitHub
from githubkit.exception import RequestFailed
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import ConfigError
from app.github import comments
from app.github.comparison import changed_paths
from app.github.events import Event, IssueCommentEvent, Place
from app.jobs.analyse import Evaluation, GitHubFactory, Target, evaluate
from app.jobs.command_parser import Command, parse
from app.jobs.stored_analysis import ensure_repository
from app.render import replies
from app.render.markdown import MARKER, full_audit, quick_score, stakeholder_report
from app.store import attestations as attestation_store
from app.store import waivers as waiver_store
from app.store.models import Analysis, AttestationRow, FindingRow, WaiverRow

log = structlog.get_logger()
MAX_BODY = 65_536  # GitHub's own limit; anything beyond is not read
# room for the marker and the footer inside GitHub's comment limit
REPORT_LIMIT = comments.COMMENT_LIMIT - 1_000


@dataclass(frozen=True)
class Conversation:
    """Where a command was given and by whom."""

    gh: GitHub[Any]
    sessions: async_sessionmaker[AsyncSession]
    event: IssueCommentEvent
    owner: str
    name: str
    number: int
    login: str

    @property
    def place(self) -> Place:
        return self.event.place

    async def reply(self, kind: str, body: str) -> None:
        await comments.reply(self.gh, self.owner, self.name, self.number, kind, body)

    @property
    def refusal(self) -> str:
        """The kind of this person's refusals: a refusal never overwrites another's reply."""
        return f"refused:{self.login}"

    @property
    def record(self) -> str:
        """A reply that stays as written (its own kind, from the command's comment id): who
        accepted or withdrew a risk, and why, is never edited away."""
        return str(self.event.comment.id)


def command_of(event: IssueCommentEvent) -> Command | None:
    """The command a comment carries, or None when it is not for us (not a new comment on a pull
    request by a person, or no command in it)."""
    if event.action != "created":
        return None
    user = event.comment.user
    if not event.issue.pull_request or user.type != "User" or user.login.endswith("[bot]"):
        return None
    return parse((event.comment.body or "")[:MAX_BODY], waiver_store.today())


async def run_command(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
) -> str:
    assert isinstance(event, IssueCommentEvent)
    command = command_of(event)
    if command is None:
        return "ignored"
    place = event.place
    owner, name = place.repository.owner_name
    talk = Conversation(
        gh=github(place.installation.id),
        sessions=sessions,
        event=event,
        owner=owner,
        name=name,
        number=event.issue.number,
        login=event.comment.user.login,
    )
    log.info(
        "command received",
        delivery=delivery_id,
        repo=place.repository.full_name,
        pr=talk.number,
        command=command.name,
        user=talk.login,
    )
    try:
        await comments.react(talk.gh, owner, name, event.comment.id, "eyes")
    except RequestFailed as exc:  # the acknowledgement is a courtesy; the reply still matters
        log.warning("reaction failed", delivery=delivery_id, status=exc.response.status_code)
    if command.changes_state and not await comments.can_write(talk.gh, owner, name, talk.login):
        await talk.reply(
            talk.refusal, replies.no_permission(talk.login) + replies.footer(talk.login)
        )
        return "done"
    if command.name in {"help", "unknown"} or (
        command.name == "invalid" and not command.changes_state
    ):
        await talk.reply("help", replies.help_text(command.error) + replies.footer(talk.login))
    elif command.name == "invalid":
        await talk.reply(
            talk.refusal, replies.refused(command.error or "invalid") + replies.footer(talk.login)
        )
    elif command.name == "waive":
        await _waive(talk, command)
    elif command.name == "unwaive":
        await _unwaive(talk, command)
    elif command.name == "confirm":
        await _confirm(talk, command)
    elif command.name == "unconfirm":
        await _unconfirm(talk, command)
    else:
        await _view(talk, command.name)
    return "done"


async def _judge_head(talk: Conversation) -> tuple[Evaluation | None, str, str | None]:
    """The pull request's head judged with its base branch's config: (evaluation or None, head
    sha, the configuration error when the config is invalid)."""
    gh, owner, name = talk.gh, talk.owner, talk.name
    pr = (await gh.rest.pulls.async_get(owner, name, talk.number)).parsed_data
    base_sha, head_sha = pr.base.sha, pr.head.sha
    target = Target(
        owner,
        name,
        head_sha,
        kind="pull_request",
        gate_branch=pr.base.ref,
        config_ref=base_sha,
        changed_paths=await changed_paths(gh, owner, name, base_sha, head_sha),
        base_sha=base_sha,
    )
    repository = talk.place.repository
    try:
        evaluation = await evaluate(gh, talk.sessions, repository.id, repository.full_name, target)
    except ConfigError as exc:
        return None, head_sha, f"invalid configuration on the base branch: {exc}"
    return evaluation, head_sha, None


async def _view(talk: Conversation, kind: str) -> None:
    evaluation, sha, problem = await _judge_head(talk)
    if evaluation is None:
        await talk.reply(kind, replies.refused(problem or "") + replies.footer(talk.login, sha))
        return
    report, rules = evaluation.report, evaluation.rules
    if kind == "score":
        body = quick_score(report)
    elif kind == "check":
        body = full_audit(report, rules, max_chars=REPORT_LIMIT)
    else:
        body = stakeholder_report(report, rules, max_chars=REPORT_LIMIT)
    # waiver reasons and repository text in the report must not notify anyone
    body = replies.no_mentions(body.removeprefix(MARKER + "\n"))
    await talk.reply(kind, body + replies.footer(talk.login, sha))


@dataclass(frozen=True)
class _Known:
    fingerprint: str
    rule: str | None
    path: str | None
    line: int | None


async def _known_findings(talk: Conversation, prefix: str) -> tuple[dict[str, _Known], str]:
    """Findings whose fingerprint starts with `prefix`: on the pull request's head now, or in
    any stored analysis of the repository. Also the head sha."""
    evaluation, sha, _ = await _judge_head(talk)
    found: dict[str, _Known] = {}
    if evaluation is not None:
        for f in evaluation.report.findings + evaluation.report.suppressed:
            if f.fingerprint.startswith(prefix):
                found[f.fingerprint] = _Known(f.fingerprint, f.rule, f.path, f.line)
    repository_id = talk.place.repository.id
    async with talk.sessions() as session:
        rows = await session.execute(
            select(FindingRow.fingerprint, FindingRow.rule, FindingRow.path, FindingRow.line)
            .join(Analysis, Analysis.id == FindingRow.analysis_id)
            .where(
                Analysis.repository_id == repository_id,
                # the prefix is 6-40 hex digits (the parser checked), so LIKE sees no wildcard
                FindingRow.fingerprint.like(f"{prefix}%"),
            )
            .limit(50)
        )
        for fingerprint, rule, path, line in rows:
            found.setdefault(fingerprint, _Known(fingerprint, rule, path, line))
    return found, sha


async def _waive(talk: Conversation, command: Command) -> None:
    assert command.finding_id is not None and command.reason is not None
    prefix = command.finding_id
    found, sha = await _known_findings(talk, prefix)
    if len(found) != 1:
        problem = (
            f"no finding has the id `{prefix}` on this pull request or in earlier analyses "
            "of the repository"
            if not found
            else f"`{prefix}` matches {len(found)} findings; give more characters of the id"
        )
        await talk.reply(talk.refusal, replies.refused(problem) + replies.footer(talk.login, sha))
        return
    [known] = found.values()
    async with talk.sessions() as session:
        repository_id = await ensure_repository(session, talk.place)
        await waiver_store.record(
            session,
            WaiverRow(
                repository_id=repository_id,
                fingerprint=known.fingerprint,
                rule=known.rule,
                path=known.path,
                reason=command.reason,
                created_by=talk.login,
                until=command.until,
                pull_request=talk.number,
                comment_url=talk.event.comment.html_url or None,
            ),
        )
        await session.commit()
    log.info(
        "finding waived",
        repo=talk.place.repository.full_name,
        finding=known.fingerprint[:8],
        user=talk.login,
        until=command.until.isoformat() if command.until else None,
    )
    body = replies.waived(
        known.fingerprint,
        known.rule,
        known.path,
        known.line,
        command.reason,
        talk.login,
        command.until,
    )
    kind = f"waiver:{known.fingerprint[:8]}:{talk.record}"
    await talk.reply(kind, body + replies.footer(talk.login, sha))


async def _unwaive(talk: Conversation, command: Command) -> None:
    assert command.finding_id is not None
    prefix = command.finding_id
    repository_id = talk.place.repository.id
    async with talk.sessions() as session:
        rows = [
            row
            for row in await waiver_store.rows_in_force(session, repository_id)
            if row.fingerprint.startswith(prefix)
        ]
        fingerprints = {row.fingerprint for row in rows}
        if len(fingerprints) == 1:
            await waiver_store.revoke(session, rows, talk.login)
            await session.commit()
    if len(fingerprints) != 1:
        problem = (
            f"no waiver in force has the id `{prefix}`"
            if not fingerprints
            else f"`{prefix}` matches {len(fingerprints)} waivers; give more characters of the id"
        )
        await talk.reply(talk.refusal, replies.refused(problem) + replies.footer(talk.login))
        return
    row = rows[0]
    log.info(
        "waiver withdrawn",
        repo=talk.place.repository.full_name,
        finding=row.fingerprint[:8],
        user=talk.login,
    )
    body = replies.unwaived(
        row.fingerprint, row.rule, row.path, talk.login, row.created_by, row.reason
    )
    kind = f"unwaiver:{row.fingerprint[:8]}:{talk.record}"
    await talk.reply(kind, body + replies.footer(talk.login))


async def _confirm(talk: Conversation, command: Command) -> None:
    """Record an attestation for the repository: not judged on a commit (it is about the
    service, not the code), so no analysis is needed."""
    assert command.item is not None and command.reason is not None
    async with talk.sessions() as session:
        repository_id = await ensure_repository(session, talk.place)
        await attestation_store.record(
            session,
            AttestationRow(
                repository_id=repository_id,
                item=command.item,
                evidence=command.reason,
                created_by=talk.login,
                until=command.until,
                pull_request=talk.number,
                comment_url=talk.event.comment.html_url or None,
            ),
        )
        await session.commit()
    log.info(
        "attestation confirmed",
        repo=talk.place.repository.full_name,
        item=command.item,
        user=talk.login,
        until=command.until.isoformat() if command.until else None,
    )
    body = replies.confirmed(command.item, command.reason, talk.login, command.until)
    await talk.reply(f"attestation:{command.item}:{talk.record}", body + replies.footer(talk.login))


async def _unconfirm(talk: Conversation, command: Command) -> None:
    assert command.item is not None
    async with talk.sessions() as session:
        rows = [
            row
            for row in await attestation_store.rows_in_force(session, talk.place.repository.id)
            if row.item == command.item
        ]
        await attestation_store.revoke(session, rows, talk.login)
        await session.commit()
    if not rows:
        problem = f"no attestation of `{command.item}` is in force"
        await talk.reply(talk.refusal, replies.refused(problem) + replies.footer(talk.login))
        return
    row = rows[-1]
    log.info(
        "attestation withdrawn",
        repo=talk.place.repository.full_name,
        item=row.item,
        user=talk.login,
    )
    body = replies.unconfirmed(row.item, talk.login, row.created_by, row.evidence)
    await talk.reply(f"unattestation:{row.item}:{talk.record}", body + replies.footer(talk.login))
