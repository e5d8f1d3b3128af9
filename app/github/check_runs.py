"""The `Production readiness` check run: created `in_progress` at once, then completed with the
score in the title, the Markdown report as summary, and every annotation (stop-ship first) sent in
batches of at most 50 per request, as GitHub requires."""

from __future__ import annotations

from typing import Any, cast

from githubkit import GitHub

from app.engine.model import Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.render.markdown import full_audit
from app.render.rule_docs import doc_url

CHECK_NAME = "Production readiness"
BATCH = 50
TEXT_LIMIT = 65_535
MESSAGE_LIMIT = 64 * 1024 - 1
LEVELS = {"notice": 0, "warning": 1, "failure": 2}


def title_of(report: Report) -> str:
    return f"Score {report.score}/100 ({report.grade}) — {report.verdict}"


def level_of(finding: Finding) -> str:
    if finding.stop_ship:
        return "failure"
    return "warning" if finding.severity.rank >= 2 else "notice"


def annotations_of(report: Report, findings: list[Finding] | None = None) -> list[dict[str, Any]]:
    """One annotation per finding located in a file (of `findings`, by default every finding of
    the report), stop-ship first."""
    located = [f for f in (report.findings if findings is None else findings) if f.path]
    located.sort(key=lambda f: (not f.stop_ship, -f.severity.rank, f.path or "", f.line or 0))
    out = []
    for f in located:
        line = f.line or 1
        docs = f"\n\nRule documentation: {doc_url(f.rule)}"
        out.append(
            {
                "path": f.path,
                "start_line": line,
                "end_line": line,
                "annotation_level": level_of(f),
                "title": f"{f.rule} {f.name}"[:255],
                "message": f"{f.message} [{f.short_id}]"[:MESSAGE_LIMIT],
                "raw_details": (f"Fix: {f.fix.strip()}"[: MESSAGE_LIMIT - len(docs)] + docs),
            }
        )
    return out


async def start(
    gh: GitHub[Any], owner: str, repo: str, head_sha: str, external_id: str | None = None
) -> int:
    """Create the check run `in_progress`; `external_id` names what it judges (see
    `in_progress`)."""
    data: dict[str, Any] = {"name": CHECK_NAME, "head_sha": head_sha, "status": "in_progress"}
    if external_id is not None:
        data["external_id"] = external_id
    response = await gh.rest.checks.async_create(owner, repo, data=cast(Any, data))
    return int(response.parsed_data.id)


async def in_progress(
    gh: GitHub[Any], owner: str, repo: str, head_sha: str, external_id: str
) -> list[int]:
    """Ids of the `Production readiness` check runs on `head_sha` still `in_progress` and
    created with `external_id`, newest first: what an earlier attempt created but never named
    or completed (its process died right after creating it, or GitHub created it but its answer
    was lost). One page: a commit has far fewer of our runs than that."""
    response = await gh.rest.checks.async_list_for_ref(
        owner,
        repo,
        head_sha,
        check_name=CHECK_NAME,
        status="in_progress",
        filter_="all",
        per_page=100,
    )
    runs = cast(dict[str, Any], response.json()).get("check_runs") or []
    ids = [
        int(run["id"])
        for run in runs
        if isinstance(run, dict)
        and run.get("external_id") == external_id
        and run.get("status") == "in_progress"
        and isinstance(run.get("id"), int)
    ]
    return sorted(ids, reverse=True)


async def complete(
    gh: GitHub[Any],
    owner: str,
    repo: str,
    check_run_id: int,
    report: Report,
    ruleset: Ruleset,
    conclusion: str,
    annotate: list[Finding] | None = None,
    max_annotations: int | None = None,
    min_level: str | None = None,
) -> int:
    """Publish the result, annotating `annotate` (by default every finding) at `min_level` or
    above, at most `max_annotations`, stop-ship first; the summary says what was left out.
    Returns the number of update requests sent."""
    candidates = annotations_of(report, annotate)
    notes = [
        n for n in candidates if LEVELS[n["annotation_level"]] >= LEVELS[min_level or "notice"]
    ]
    below = len(candidates) - len(notes)
    notes = notes if max_annotations is None else notes[:max_annotations]
    note = _left_out(
        len(candidates), below, len(candidates) - below - len(notes), min_level, max_annotations
    )
    summary = full_audit(report, ruleset, max_chars=TEXT_LIMIT - len(note)) + note
    title = title_of(report)
    batches = [notes[i : i + BATCH] for i in range(0, len(notes), BATCH)] or [[]]
    for index, batch in enumerate(batches):
        last = index == len(batches) - 1
        data: dict[str, Any] = {
            "output": {"title": title, "summary": summary, "annotations": batch},
        }
        if last:
            data.update(status="completed", conclusion=conclusion)
        await gh.rest.checks.async_update(owner, repo, check_run_id, data=cast(Any, data))
    return len(batches)


def _left_out(total: int, below: int, over: int, level: str | None, limit: int | None) -> str:
    """The summary's closing note on findings that got no annotation (all are in the report)."""
    if not below and not over:
        return ""
    reasons = []
    if below:
        reasons.append(f"{below} below `annotations.level` ({level})")
    if over:
        reasons.append(f"{over} over the limit: `annotations.max` is {limit}")
    return (
        f"\n---\n{below + over} of {total} findings in files are not annotated "
        f"({'; '.join(reasons)}). `stopship check` on a checkout lists every finding.\n"
    )


async def close(
    gh: GitHub[Any],
    owner: str,
    repo: str,
    check_run_id: int,
    conclusion: str,
    title: str,
    summary: str,
) -> None:
    """Complete a check run without a report (superseded, not analysed, failed)."""
    await gh.rest.checks.async_update(
        owner,
        repo,
        check_run_id,
        data=cast(
            Any,
            {
                "status": "completed",
                "conclusion": conclusion,
                "output": {"title": title[:255], "summary": summary[:TEXT_LIMIT]},
            },
        ),
    )


async def fail(gh: GitHub[Any], owner: str, repo: str, check_run_id: int, reason: str) -> None:
    """Never leave a check run `in_progress`: close it with what went wrong."""
    await close(
        gh,
        owner,
        repo,
        check_run_id,
        "failure",
        "stopship could not analyse this commit",
        reason,
    )


def superseded_output(newer_sha: str) -> tuple[str, str]:
    """Title and summary of a check run (completed `neutral`) whose commit was superseded: a
    newer commit arrived for the same branch or pull request before this one was judged."""
    return (
        f"Superseded by {newer_sha[:7]}",
        f"superseded by {newer_sha}: a newer commit was pushed to this branch or pull request "
        "before this analysis finished. Its own check run has the verdict.",
    )
