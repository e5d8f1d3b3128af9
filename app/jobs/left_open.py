"""The check runs a delivery leaves behind when it will not run again: its claims are released
(the next delivery judges the commit) and every check run they still name as open is completed,
so no check run stays `in_progress` for ever. A delivery that failed (GitHub unavailable past the
retry deadline, an error) completes it `failure` with the reason; any other outcome (superseded
while waiting to be tried again, say) `neutral`."""

from __future__ import annotations

from datetime import timedelta

import structlog
from githubkit.exception import GitHubException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.github import check_runs, rate_limit
from app.github.events import Place
from app.jobs import supersede
from app.jobs.analyse import GitHubFactory

log = structlog.get_logger()


def final_output(status: str, reason: str | None) -> tuple[str, str, str]:
    """Conclusion, title and summary of a check run its delivery ended with `status`."""
    if status == "failed":
        return "failure", "stopship could not analyse this commit", reason or status
    if status == "superseded":
        return (
            "neutral",
            "Superseded by a newer commit",
            "A newer commit was pushed to this branch or pull request before this analysis "
            "could finish. Its own check run has the verdict.",
        )
    return "neutral", "Not analysed by this run", f"This delivery ended `{status}`."


async def close_left_open(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    place: Place,
    status: str,
    reason: str | None,
) -> int:
    """Release what the delivery still holds and complete its open check runs (each tried once,
    with no waiting on rate limits); returns how many were completed."""
    left = await supersede.release_left(sessions, delivery_id)
    if not left:
        return 0
    gh = github(place.installation.id)
    owner, name = place.repository.owner_name
    conclusion, title, summary = final_output(status, reason)
    closed = 0
    for sha, run_id in left:
        with rate_limit.job_budget(timedelta()):
            try:
                await check_runs.close(gh, owner, name, run_id, conclusion, title, summary)
            except (GitHubException, rate_limit.RateLimitExhausted) as exc:
                log.error("could not close the check run", check_run=run_id, error=str(exc))
                continue
        await supersede.forget_check_run(sessions, delivery_id, run_id)
        log.info("check run left open completed", check_run=run_id, sha=sha, status=status)
        closed += 1
    return closed
