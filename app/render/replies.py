"""The short texts the App writes besides reports: command help, waiver confirmations and
refusals, and the comment of a deployment review. Markdown; computed from what they are handed."""

from __future__ import annotations

import re
from datetime import date

from app.engine.attestations import LABELS, QUESTIONS
from app.engine.model import Finding
from app.engine.report import Report
from app.engine.scoring import NOT_READY
from app.render.markdown import location

HELP = """### stopship commands

Comment on a pull request with one command on its own line:

| Command | What it does |
|---|---|
| `/production score` | the score, grade, verdict and top 3 findings |
| `/production check` | the full audit: score breakdown, release gate, stop-ship, quick wins |
| `/production report` | the stakeholder report: summary, findings by category, action plan |
| `/production waive ID reason [until YYYY-MM-DD]` | accept a finding as a documented risk: \
it no longer counts or blocks the gate (needs write permission) |
| `/production unwaive ID` | withdraw a waiver (needs write permission) |
| `/production confirm ITEM evidence [until YYYY-MM-DD]` | attest what code cannot show \
(`backups`, `rollback`, `on-call`, `load-test`, `incident-response`): the release-gate checklist \
ticks it and a deployment no longer waits for it (needs write permission) |
| `/production unconfirm ITEM` | withdraw an attestation (needs write permission) |
| `/production help` | this help |

`ID` is the 8-character id shown beside each finding (or a longer prefix of its fingerprint).
The pull request is judged at its head commit with its base branch's configuration.
"""


_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def no_mentions(text: str) -> str:
    """`text` (which may quote what a user typed) with every @mention made inert, so that the
    App's comment never notifies anyone on a commenter's behalf."""
    return _MENTION.sub("@\u200b", text)


def help_text(problem: str | None = None) -> str:
    """The help, after what was wrong with the command when something was."""
    return (f"**{no_mentions(problem)}.**\n\n" if problem else "") + HELP


def footer(login: str, sha: str | None = None) -> str:
    at = f" · judged at `{sha[:7]}`" if sha else ""
    return f"\n---\n<sub>For @{login}{at} · `/production help` lists the commands</sub>\n"


def refused(problem: str) -> str:
    return f"**Not done:** {no_mentions(problem)}.\n"


def no_permission(login: str) -> str:
    return (
        f"**Not done:** @{login}, waivers and attestations (and withdrawing them) need write, "
        "maintain or admin permission on this repository; nothing was changed.\n"
    )


def _finding_text(rule: str | None, path: str | None, line: int | None) -> str:
    where = "repository" if path is None else (f"`{path}:{line}`" if line else f"`{path}`")
    return f"{rule or 'finding'} at {where}"


def waived(
    fingerprint: str,
    rule: str | None,
    path: str | None,
    line: int | None,
    reason: str,
    by: str,
    until: date | None,
) -> str:
    end = f"until {until.isoformat()} (inclusive)" if until else "with no end date"
    return (
        f"**Waived** `{fingerprint[:8]}` — {_finding_text(rule, path, line)}, {end}.\n\n"
        f"- Reason: {no_mentions(reason)}\n"
        f"- Waived by: @{by}\n\n"
        "From the next analysis of this repository it is listed as accepted risk: it no longer "
        "counts in the score or blocks the release gate. Push a commit or re-run the "
        f"`Production readiness` check to update this pull request. "
        f"`/production unwaive {fingerprint[:8]}` withdraws it.\n"
    )


def unwaived(
    fingerprint: str,
    rule: str | None,
    path: str | None,
    by: str,
    accepted_by: str = "",
    reason: str = "",
) -> str:
    """The record of a withdrawal: it names who had accepted the risk and why (that waiver's own
    reply stays as it was written)."""
    accepted = (
        f" It had been accepted by @{accepted_by}: {no_mentions(reason)}." if accepted_by else ""
    )
    return (
        f"**Waiver withdrawn** for `{fingerprint[:8]}` — {_finding_text(rule, path, None)}, "
        f"by @{by}.{accepted} From the next analysis it counts again.\n"
    )


def confirmed(item: str, evidence: str, by: str, until: date | None) -> str:
    """The record of an attestation: what was confirmed, by whom, on what evidence."""
    end = f"until {until.isoformat()} (inclusive)" if until else "with no end date"
    return (
        f"**Confirmed** `{item}` — {LABELS[item]}, {end}.\n\n"
        f"- Evidence: {no_mentions(evidence)}\n"
        f"- Confirmed by: @{by}\n\n"
        "From the next analysis of this repository the release-gate checklist ticks it, and a "
        f"deployment no longer waits for it. `/production unconfirm {item}` withdraws it.\n"
    )


def unconfirmed(item: str, by: str, confirmed_by: str, evidence: str) -> str:
    """The record of a withdrawn attestation: it names who had confirmed it and on what evidence
    (that attestation's own reply stays as it was written)."""
    return (
        f"**Attestation withdrawn** for `{item}` — {LABELS[item]}, by @{by}. "
        f"It had been confirmed by @{confirmed_by}: {no_mentions(evidence)}. From the next "
        "analysis it is an unmet item of the checklist again where the launch stage requires "
        "it.\n"
    )


def deployment_review(report: Report, sha: str, limit: int = 5) -> str:
    """`approved` / `rejected` explained in a few lines: score, grade, verdict, open stop-ship."""
    stops = report.stop_ship
    lines = [
        f"stopship: Score {report.score}/100 (grade {report.grade}) — {report.verdict} "
        f"at {sha[:7]}; {len(stops)} open stop-ship finding{'s' if len(stops) != 1 else ''}."
    ]
    if report.gate_reason:
        lines.append(f"Gate {report.gate_reason}.")
    lines += [_stop_line(f) for f in stops[:limit]]
    if len(stops) > limit:
        lines.append(f"… and {len(stops) - limit} more.")
    if report.score < report.min_score:
        lines.append(f"The score is below the minimum of {report.min_score}.")
    security = [g for g in report.gates if g.name.startswith("Security") and not g.passed]
    if report.verdict == NOT_READY and security:
        lines.append(f"Gate failed: {security[0].name} ({security[0].detail}).")
    lines += [
        f"Unconfirmed: {QUESTIONS[item]} (`/production confirm {item} <evidence>`)"
        for item in report.unconfirmed
    ]
    return "\n".join(lines)


def _stop_line(f: Finding) -> str:
    return f"- {f.short_id} {f.rule} {location(f).strip('`')}: {f.message}"
