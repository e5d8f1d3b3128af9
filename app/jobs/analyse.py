"""Judging a commit: the tree from one recursive request, the config through its blob id, only
uncached blobs fetched (app/jobs/commit_files.py), the engine, then the `Production readiness`
check run and the analysis stored. Conclusion: `failure` when the gating branch is a release
branch and stop-ship findings are open; otherwise `success` when there are none, else the
configured `conclusion_outside_release` (`neutral` by default).

A pull request or merge group is also judged against its base: the check summary says what the
change introduces, fixes and what was there before, and only introduced findings are annotated.
A job superseded by a newer push to its branch or pull request stops and completes its check run
`neutral` (app/jobs/supersede.py); a second delivery for a commit already judged in the same
context produces no second analysis. Rate limits are honoured for the whole job with a bounded
wait; past it the check run is completed `cancelled`, saying when GitHub's quota comes back, and
the delivery is left `rate_limited` with `retry_at`, to be run again then (or by the check run's
Re-run button). No failure leaves the check run `in_progress` while GitHub accepts the update.
The check run is named in the job's claim as soon as it is created: a job run again (its process
died, or GitHub was unavailable: a 5xx, a timeout, a lost connection) completes that check run
instead of adding another, and one stopped by an outage leaves it `in_progress` for its next try.

A push is judged from the commit this process judged before it: the tree listing, the commit's
files and the report state are each made from the previous commit's by redoing what changed
(app/github/tree_listing.py, app/jobs/commit_files.py, app/engine/report_cache.py), and the
findings are stored as the changes from the branch's previous analysis
(app/jobs/stored_analysis.py); the report equals what build_report gives for the whole tree.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import structlog
from githubkit import GitHub
from githubkit.exception import GitHubException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.engine import baseline
from app.engine.attestations import Attestation, confirmed_statuses
from app.engine.config import ConfigError, StopshipConfig, check_rule_ids, parse_config
from app.engine.gate import GateContext, Kind, decide, suppression_trust
from app.engine.model import FileResult as EngineResult
from app.engine.model import Finding, Waiver
from app.engine.report import Report, ScanStats
from app.engine.ruleset import Ruleset, load_ruleset
from app.github import check_runs, outages, rate_limit
from app.github.events import Place
from app.jobs import supersede
from app.jobs.commit_files import CommitFiles, CommitReader, Superseded
from app.jobs.recent_commits import report_state
from app.jobs.release_baseline import release_of
from app.jobs.repository_context import add_context
from app.jobs.stored_analysis import store_analysis
from app.store import attestations as attestation_store
from app.store import waivers as waiver_store

log = structlog.get_logger()
GitHubFactory = Callable[[int], GitHub[Any]]


@lru_cache(maxsize=1)
def ruleset() -> Ruleset:
    """The shipped ruleset, loaded once per process."""
    return load_ruleset()


def gate_context(target: Target, config: StopshipConfig) -> GateContext:
    """The gate's context of a judged target, with the release branches of its trusted config."""
    return GateContext(
        target.kind,
        target.gate_branch,
        config.release_branches,
        config.conclusion_outside_release,
        environment=target.environment or "",
    )


class JobRateLimited(Exception):
    """The job ended because GitHub's quota is spent until `until`; run it again then."""

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"GitHub API rate limit exhausted until {until:%Y-%m-%d %H:%M:%S} UTC; "
            "the check run was completed `cancelled` and this delivery can be run again then"
        )
        self.until = until


@dataclass(frozen=True)
class Target:
    """What to judge: a commit, the branch that decides gating, where the config comes from, and
    (for a pull request or merge group) its base, the files it changes and the renames git saw.
    `annotate_paths` limits annotations on a push to the files it changed; `rerun` is set when a
    user asked for the check again (it is judged even if it was judged before)."""

    owner: str
    name: str
    sha: str
    gate_branch: str
    config_ref: str
    changed_paths: set[str] | None = None
    base_sha: str | None = None
    renames: tuple[tuple[str, str], ...] = ()
    annotate_paths: frozenset[str] | None = None
    rerun: bool = False
    # a deployment to this environment: its last successful deployment is the release baseline
    environment: str | None = None
    # what the gate judges it as (app/engine/gate.py)
    kind: Kind = "push"

    def __post_init__(self) -> None:
        if self.base_sha and self.kind not in ("pull_request", "merge_group"):
            # a change judged against its base must never trust its own suppressions
            raise ValueError(f"a target with a base is a pull request or merge group: {self.kind}")

    # the analyses its findings are stored along (app/jobs/stored_analysis.py): the job's lock,
    # so a lineage's analyses are made one at a time; empty: the commit's own
    lineage: str = ""


@asynccontextmanager
async def _one_connection_pool(gh: GitHub[Any]) -> AsyncIterator[None]:
    """Every request of the job over one HTTP client (kept connections; and the tarball's
    streamed body needs its client open)."""
    client: Any = gh
    try:
        await client.__aenter__()
    except RuntimeError:  # the caller already opened one for this context
        yield
        return
    try:
        yield
    finally:
        await client.__aexit__(None, None, None)


async def judge(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    place: Place,
    target: Target,
    rules: Ruleset | None = None,
) -> str:
    """Judge `target` in the repository of `place` and publish the check run. Returns `done`,
    `superseded` or `duplicate`; raises JobRateLimited when GitHub's quota ran out (the check
    run is completed first)."""
    rules = rules or ruleset()
    repository_id = place.repository.id
    newer = await supersede.newer_sha(sessions, delivery_id)
    if newer is not None:
        log.info("superseded before start", delivery=delivery_id, sha=target.sha, newer=newer)
        return "superseded"
    context = supersede.context_of(
        target.gate_branch, target.config_ref, target.base_sha or "", rules.digest
    )
    held = await supersede.claim(
        sessions, repository_id, target.sha, context, delivery_id, target.rerun
    )
    if held is None:
        log.info("already judged in this context", delivery=delivery_id, sha=target.sha)
        return "duplicate"
    gh = github(place.installation.id)
    async with _one_connection_pool(gh):
        with rate_limit.job_budget():
            return await _judge_claimed(gh, sessions, delivery_id, place, target, rules, held)


@dataclass
class Evaluation:
    """A judged commit before anything is published: its config, the report (compared with its
    base for a pull request or merge group), the findings to annotate (None: all), and the
    per-file results this evaluation analysed, under their cache keys (already cached)."""

    config: StopshipConfig
    report: Report
    rules: Ruleset
    fresh: dict[str, EngineResult]
    keys: dict[str, str]
    fetched: int
    annotate: list[Finding] | None = None


async def evaluate(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    repository_id: int,
    repo_full_name: str,
    target: Target,
    rules: Ruleset | None = None,
) -> Evaluation:
    """Judge `target` without publishing anything (for jobs that answer otherwise than with a
    check run): the tree, the config through its blob id, only uncached blobs (cached as they
    are analysed), the engine, the base comparison. Raises ConfigError when the configuration is
    invalid. `repository_id` is the repository's database id."""
    rules = rules or ruleset()
    waivers = await _waivers(sessions, repository_id)
    async with _one_connection_pool(gh):
        with rate_limit.job_budget():
            reader = CommitReader(gh, target.owner, target.name, sessions, rules)
            evaluation = await _evaluate(
                reader,
                repo_full_name,
                target,
                rules,
                waivers,
                await _attested(sessions, repository_id),
            )
            evaluation.report = await add_context(
                gh,
                sessions,
                repository_id,
                target.owner,
                target.name,
                evaluation.report,
                rules,
                evaluation.config,
                waivers,
                gate_context(target, evaluation.config),
                None,
            )
            return evaluation


async def _waivers(
    sessions: async_sessionmaker[AsyncSession], repository_id: int
) -> dict[str, Waiver]:
    """The repository's waivers in force today (none for a repository never seen before)."""
    async with sessions() as session:
        return await waiver_store.in_force(session, repository_id)


async def _attested(
    sessions: async_sessionmaker[AsyncSession], repository_id: int
) -> dict[str, Attestation]:
    """The repository's attestations in force today (none for a repository never seen before)."""
    async with sessions() as session:
        return await attestation_store.in_force(session, repository_id)


async def _judge_claimed(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    place: Place,
    target: Target,
    rules: Ruleset,
    held: supersede.Claim,
) -> str:
    owner, name, sha = target.owner, target.name, target.sha
    started = time.perf_counter()
    try:
        run_id = (
            held.open_check_run_id
            or await _left_unnamed(gh, target, held)
            or await check_runs.start(gh, owner, name, sha, external_id=held.context)
        )
    except BaseException as exc:  # no check run to close: let the next delivery judge it
        await supersede.settle(sessions, held, "released")
        until = rate_limit.exhausted_until(exc)
        if until is not None:
            raise JobRateLimited(until) from exc
        raise

    async def check_newer() -> None:
        newer = await supersede.newer_sha(sessions, delivery_id)
        if newer is not None:
            raise Superseded(newer)

    try:
        if run_id != held.open_check_run_id:  # named at once: a job run again completes it
            await supersede.hold_check_run(sessions, held, run_id)
        reader = CommitReader(gh, owner, name, sessions, rules, check_newer)
        waivers = await _waivers(sessions, place.repository.id)
        try:
            evaluation = await _evaluate(
                reader,
                place.repository.full_name,
                target,
                rules,
                waivers,
                await _attested(sessions, place.repository.id),
            )
        except ConfigError as exc:
            await check_runs.fail(gh, owner, name, run_id, f"Invalid configuration: {exc}")
            await supersede.settle(sessions, held, "done")
            return "done"
        config = evaluation.config
        report = evaluation.report = await add_context(
            gh,
            sessions,
            place.repository.id,
            owner,
            name,
            evaluation.report,
            rules,
            config,
            waivers,
            gate_context(target, config),
            place.repository.default_branch,
        )
        conclusion = decide(report, gate_context(target, config)).conclusion
        await check_newer()
        await check_runs.complete(
            gh,
            owner,
            name,
            run_id,
            report,
            rules,
            conclusion,
            annotate=evaluation.annotate,
            max_annotations=config.annotations.max,
            min_level=config.annotations.level,
        )
    except Superseded as exc:
        log.info("superseded", delivery=delivery_id, sha=sha, newer=exc.sha)
        title, summary = check_runs.superseded_output(exc.sha)
        closed = await _close_quietly(gh, target, run_id, "neutral", title, summary)
        await supersede.settle(
            sessions, held, "done" if closed else "released", None if closed else run_id
        )
        return "superseded"
    except BaseException as exc:  # closes the check run, then re-raised
        await _end_unfinished(gh, sessions, delivery_id, target, held, run_id, exc)
        raise
    stats = report.stats
    metrics.commit_judged(time.perf_counter() - started, stats.files_analyzed, stats.cache_hits)
    try:
        lineage = target.lineage or f"{place.repository.id}:sha:{sha}"
        await store_analysis(sessions, delivery_id, place, sha, rules, run_id, report, lineage)
    except BaseException:
        await supersede.settle(sessions, held, "released")  # published, not recorded: redo
        raise
    await supersede.settle(sessions, held, "done")
    log.info(
        "commit judged",
        delivery=delivery_id,
        repo=place.repository.full_name,
        sha=sha,
        score=report.score,
        conclusion=conclusion,
        analysed=len(evaluation.fresh),
        fetched=evaluation.fetched,
        seconds=round(time.perf_counter() - started, 3),
    )
    return "done"


async def _left_unnamed(gh: GitHub[Any], target: Target, held: supersede.Claim) -> int | None:
    """The check run an earlier job of this claim created but never named (it died right
    after, or GitHub's answer was lost), found by the claim's context as its external id; any
    older such runs are completed, so one stays."""
    if not held.earlier:
        return None
    found = await check_runs.in_progress(gh, target.owner, target.name, target.sha, held.context)
    for extra in found[1:]:
        title, summary = "Replaced", f"Check run {found[0]} has this commit's verdict."
        await _close_quietly(gh, target, extra, "neutral", title, summary)
    return found[0] if found else None


async def _end_unfinished(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    target: Target,
    held: supersede.Claim,
    run_id: int,
    exc: BaseException,
) -> None:
    """Close the check run of a job that cannot finish and release its claim; raise
    JobRateLimited (from `exc`) when GitHub's quota is what stopped it. A job GitHub's outage
    stopped keeps both: the delivery is tried again and completes the same check run
    (app/jobs/handlers.py gives up on it after a while)."""
    if outages.is_outage(exc):
        log.warning("GitHub unavailable", delivery=delivery_id, sha=target.sha, check_run=run_id)
        return
    until = rate_limit.exhausted_until(exc)
    if until is not None:
        title = f"Not analysed: GitHub API rate limit (until {until:%H:%M} UTC)"
        summary = (
            f"GitHub's API quota for this installation is spent until {until:%Y-%m-%d %H:%M:%S}"
            " UTC, later than stopship waits within one job. This commit was not analysed, so "
            "the check does not pass. It is judged again when it is re-run (the Re-run button "
            "of this check) or when the delivery is run again after that time."
        )
        conclusion = "cancelled"
    elif isinstance(exc, Exception):
        log.error("analysis failed", delivery=delivery_id, sha=target.sha, exc_info=exc)
        title, summary = "stopship could not analyse this commit", f"{type(exc).__name__}: {exc}"
        conclusion = "failure"
    else:  # cancelled (shutdown): the delivery stays unfinished and is resumed
        title = "stopship was interrupted"
        summary = "The worker stopped during this analysis; it runs again when the worker resumes."
        conclusion = "cancelled"
    closed = await _close_quietly(gh, target, run_id, conclusion, title, summary[:2000])
    await supersede.settle(sessions, held, "released", None if closed else run_id)
    if until is not None:
        raise JobRateLimited(until) from exc


async def _close_quietly(
    gh: GitHub[Any], target: Target, run_id: int, conclusion: str, title: str, summary: str
) -> bool:
    """Try once, with no waiting on rate limits, to complete the check run."""
    with rate_limit.job_budget(timedelta()):
        try:
            await check_runs.close(
                gh, target.owner, target.name, run_id, conclusion, title, summary
            )
        except (GitHubException, rate_limit.RateLimitExhausted) as exc:
            log.error("could not close the check run", check_run=run_id, error=str(exc))
            return False
    return True


async def _evaluate(
    reader: CommitReader,
    repo_full_name: str,
    target: Target,
    rules: Ruleset,
    waivers: dict[str, Waiver],
    attested: dict[str, Attestation] | None = None,
) -> Evaluation:
    head_tree = await reader.tree(target.sha)
    base_tree = await reader.tree(target.base_sha) if target.base_sha else None
    trees = {t.sha: t for t in (head_tree, base_tree) if t is not None}
    config = parse_config(await reader.config(trees.get(target.config_ref), target.config_ref))
    check_rule_ids(config, set(rules.by_id))
    release = await release_of(reader, head_tree, config, target.environment, target.changed_paths)
    head = await reader.files(head_tree, config)
    base_results: dict[str, EngineResult] | None = None
    base: CommitFiles | None = None
    if base_tree is not None:
        base = await reader.files(base_tree, config)
        moved = baseline.renames(base.blobs, head.blobs, dict(target.renames))
        base_results = baseline.carried(base.results, moved) if moved else base.results
    # the report of the commit this process judged before, redone for the files that changed
    # (app/engine/report_cache.py): the same Report build_report makes of every file
    state = report_state(reader.sessions, reader.repository, head, config, rules, release)
    context = gate_context(target, config)
    report = state.report(
        repo_full_name,
        stats=_stats(head),
        waivers=waivers,
        suppression_policy=suppression_trust(context, base_results),
        changed_paths=target.changed_paths,
    )
    report.attestations = confirmed_statuses(report.attestations, attested or {})
    report.gate_reason = decide(report, context).reason
    annotate: list[Finding] | None = None
    if base is not None and base_results is not None:
        base_state = report_state(reader.sessions, reader.repository, base, config, rules, release)
        if base_results is not base.results:  # the base's files under their new names
            base_state = base_state.updated(base_results, moved.keys() | moved.values())
        base_report = base_state.report(
            repo_full_name, waivers=waivers, changed_paths=target.changed_paths
        )
        report.baseline = baseline.compare(report, base_report, base.sha)
        annotate = report.baseline.introduced
    elif target.annotate_paths is not None:
        annotate = [f for f in report.findings if f.path in target.annotate_paths]
    return Evaluation(
        config,
        report,
        rules,
        fresh={p: head.results[p] for p in head.fresh},
        keys=dict(head.fresh),
        fetched=reader.blob_requests,
        annotate=annotate,
    )


def _stats(files: CommitFiles) -> ScanStats:
    return ScanStats(
        files_total=len(files.results) + sum(files.skipped.values()),
        files_analyzed=files.analysed,
        cache_hits=len(files.results) - files.analysed,
        skipped=dict(files.skipped),
        parse_problems=tuple(
            (path, f"{p.parser}: {p.message}")
            for path in files.problems
            for p in files.results[path].problems
        ),
    )
