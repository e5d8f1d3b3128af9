"""`deployment_protection_rule` (action `requested`): judge the deployment's commit with the
config at that commit (and the repository's waivers and attestations) and approve the
deployment, or reject it when the verdict is NOT READY (an open stop-ship finding, a score under
the minimum, or security under the strictness' floor) or a required attestation is unconfirmed.
An invalid config rejects; a failure to judge leaves the deployment
waiting with a comment saying so, and the delivery is recorded as failed (it can be replayed)."""

from __future__ import annotations

import re
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.config import ConfigError
from app.engine.gate import decide
from app.github import deployments
from app.github.events import Deployment, DeploymentProtectionRuleEvent, Event
from app.jobs.analyse import GitHubFactory, Target, evaluate, gate_context
from app.render.replies import deployment_review

log = structlog.get_logger()
_SHA = re.compile(r"^[0-9a-f]{40}$")


async def gate_deployment(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    event: Event,
) -> str:
    assert isinstance(event, DeploymentProtectionRuleEvent)
    if event.action != "requested":
        return "ignored"
    repo = event.place.repository
    owner, name = repo.owner_name
    deployment = event.deployment or Deployment()
    sha = deployment.sha
    if not _SHA.match(sha):
        raise ValueError(f"deployment.sha is not a commit id: {sha[:50]!r}")
    environment = event.environment or deployment.environment
    run_id = deployments.run_id_of(event.deployment_callback_url or "", owner, name)
    gh = github(event.place.installation.id)
    started = time.perf_counter()
    target = Target(
        owner,
        name,
        sha,
        gate_branch=deployment.ref,
        config_ref=sha,
        environment=environment or None,
        kind="deployment",
    )
    try:
        evaluation = await evaluate(gh, sessions, repo.id, repo.full_name, target)
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
        repo=repo.full_name,
        sha=sha,
        environment=environment,
        state=state,
        score=report.score,
        seconds=round(time.perf_counter() - started, 3),
    )
    return "done"
