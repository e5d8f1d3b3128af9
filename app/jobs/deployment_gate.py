"""`deployment_protection_rule` (action `requested`): judge the deployment's commit with the
config at that commit (and the repository's waivers) and approve the deployment, or reject it
when the verdict is NOT READY (an open stop-ship finding, a score under the minimum, or security
under the strictness' floor). An invalid config rejects; a failure to judge leaves the deployment
waiting with a comment saying so, and the delivery is recorded as failed (it can be replayed)."""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import ConfigError
from app.engine.gate import decide
from app.github import deployments
from app.jobs.analyse import GitHubFactory, Target, evaluate, gate_context
from app.render.replies import deployment_review

log = structlog.get_logger()
_SHA = re.compile(r"^[0-9a-f]{40}$")


async def gate_deployment(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
) -> str:
    if payload.get("action") != "requested":
        return "ignored"
    repo = payload["repository"]
    owner, name = str(repo["full_name"]).split("/", 1)
    deployment = payload.get("deployment") or {}
    sha = str(deployment.get("sha") or "")
    if not _SHA.match(sha):
        raise ValueError(f"deployment.sha is not a commit id: {sha[:50]!r}")
    environment = str(payload.get("environment") or deployment.get("environment") or "")
    run_id = deployments.run_id_of(str(payload.get("deployment_callback_url") or ""), owner, name)
    gh = github(int(payload["installation"]["id"]))
    started = time.perf_counter()
    target = Target(
        owner,
        name,
        sha,
        gate_branch=str(deployment.get("ref") or ""),
        config_ref=sha,
        environment=environment or None,
        kind="deployment",
    )
    try:
        evaluation = await evaluate(gh, sessions, int(repo["id"]), repo["full_name"], target)
    except ConfigError as exc:
        await deployments.review(
            gh,
            owner,
            name,
            run_id,
            environment,
            "rejected",
            f"stopship: invalid configuration at {sha[:7]}: {exc}",
        )
        return "done"
    except Exception as exc:
        await deployments.review(
            gh,
            owner,
            name,
            run_id,
            environment,
            None,
            f"stopship could not judge {sha[:7]} ({type(exc).__name__}); the deployment "
            "waits: re-run the workflow to ask again, or review it by hand",
        )
        raise
    report = evaluation.report
    state = decide(report, gate_context(target, evaluation.config)).deployment
    await deployments.review(
        gh, owner, name, run_id, environment, state, deployment_review(report, sha)
    )
    log.info(
        "deployment reviewed",
        delivery=delivery_id,
        repo=repo["full_name"],
        sha=sha,
        environment=environment,
        state=state,
        score=report.score,
        seconds=round(time.perf_counter() - started, 3),
    )
    return "done"
