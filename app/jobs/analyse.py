"""Judging a pushed commit: configuration from the pushed commit, the tree from one recursive
request, only uncached blobs fetched, the engine, then the `Production readiness` check run and
the analysis stored. Conclusion: `failure` when the branch is a release branch and stop-ship
findings are open; otherwise `success` when there are none, else the configured
`conclusion_outside_release` (`neutral` by default)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

import structlog
from githubkit import GitHub
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import (
    CONFIG_PATH,
    ConfigError,
    StopshipConfig,
    check_rule_ids,
    parse_config,
)
from app.engine.model import FileResult as EngineResult
from app.engine.report import Report, ScanStats
from app.engine.ruleset import Ruleset, load_ruleset
from app.engine.serialize import result_from_dict, result_to_dict
from app.github import check_runs, snapshot
from app.store import waivers as waiver_store
from app.store.models import Analysis, FileResult, FindingRow, Installation, Repository

log = structlog.get_logger()
GitHubFactory = Callable[[int], GitHub[Any]]


@lru_cache(maxsize=1)
def ruleset() -> Ruleset:
    """The shipped ruleset, loaded once per process."""
    return load_ruleset()


def conclusion_for(report: Report, branch: str, globs: tuple[str, ...], outside: str) -> str:
    release = any(fnmatchcase(branch, g) for g in globs)
    if report.stop_ship and release:
        return "failure"
    return "success" if not report.stop_ship else outside


async def _cached(
    sessions: async_sessionmaker[AsyncSession], keys: list[str]
) -> dict[str, EngineResult]:
    out: dict[str, EngineResult] = {}
    async with sessions() as session:
        for start in range(0, len(keys), 500):
            rows = await session.scalars(
                select(FileResult).where(FileResult.key.in_(keys[start : start + 500]))
            )
            for row in rows:
                out[row.key] = result_from_dict(json.loads(row.result))
    return out


async def _ensure_repository(session: AsyncSession, payload: dict[str, Any]) -> int:
    installation = payload["installation"]
    repo = payload["repository"]
    if await session.get(Installation, installation["id"]) is None:
        account = (installation.get("account") or repo.get("owner") or {}).get("login", "")
        session.add(Installation(id=installation["id"], account=str(account)))
        await session.flush()
    if await session.get(Repository, repo["id"]) is None:
        session.add(
            Repository(
                id=repo["id"], installation_id=installation["id"], full_name=repo["full_name"]
            )
        )
        await session.flush()
    return int(repo["id"])


@dataclass(frozen=True)
class Target:
    """What to judge: a commit, the branch that decides gating, where the config comes from, and
    (for a pull request) the files it changes."""

    owner: str
    name: str
    sha: str
    gate_branch: str
    config_ref: str
    changed_paths: set[str] | None = None
    base_sha: str | None = None


async def analyse_push(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
) -> str:
    sha = str(payload.get("after") or "")
    if payload.get("deleted") or not sha or set(sha) == {"0"}:
        return "ignored"
    owner, name = payload["repository"]["full_name"].split("/", 1)
    branch = str(payload.get("ref", "")).removeprefix("refs/heads/")
    target = Target(owner, name, sha, gate_branch=branch, config_ref=sha)
    return await judge(github, sessions, delivery_id, payload, target)


PR_ACTIONS = {"opened", "synchronize", "reopened"}
MAX_COMPARE_FILES = 300  # the compare API lists at most 300 files


async def changed_paths(
    gh: GitHub[Any], owner: str, name: str, base_sha: str, head_sha: str
) -> set[str] | None:
    """The files changed between two commits; None (judge every file) when the compare API's
    list is cut at its limit."""
    comparison = await gh.rest.repos.async_compare_commits(owner, name, f"{base_sha}...{head_sha}")
    files = comparison.parsed_data.files or []
    return None if len(files) >= MAX_COMPARE_FILES else {f.filename for f in files}


async def analyse_pull_request(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
) -> str:
    """A pull request is judged by its base branch's rules: config from the base commit, gating by
    the base branch, findings listed for the files it changes (the score covers the tree)."""
    action = payload.get("action")
    base_changed = action == "edited" and "base" in (payload.get("changes") or {})
    if action not in PR_ACTIONS and not base_changed:
        return "ignored"
    pr = payload["pull_request"]
    owner, name = payload["repository"]["full_name"].split("/", 1)
    base_sha, head_sha = str(pr["base"]["sha"]), str(pr["head"]["sha"])
    gh = github(int(payload["installation"]["id"]))
    changed = await changed_paths(gh, owner, name, base_sha, head_sha)
    target = Target(
        owner,
        name,
        head_sha,
        gate_branch=str(pr["base"]["ref"]),
        config_ref=base_sha,
        changed_paths=changed,
        base_sha=base_sha,
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def analyse_merge_group(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
) -> str:
    """A merge queue entry: its head commit is judged against its base, and the result is
    reported on that commit, so the queue neither stalls nor passes without a verdict."""
    if payload.get("action") != "checks_requested":
        return "ignored"
    group = payload["merge_group"]
    owner, name = payload["repository"]["full_name"].split("/", 1)
    base_sha, head_sha = str(group["base_sha"]), str(group["head_sha"])
    gh = github(int(payload["installation"]["id"]))
    changed = await changed_paths(gh, owner, name, base_sha, head_sha)
    target = Target(
        owner,
        name,
        head_sha,
        gate_branch=str(group["base_ref"]).removeprefix("refs/heads/"),
        config_ref=base_sha,
        changed_paths=changed,
        base_sha=base_sha,
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def analyse_rerequest(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    event: str,
) -> str:
    """check_suite requested/rerequested and check_run rerequested: judge the suite's head commit
    again (its branch decides gating; pull-request context is not in these payloads)."""
    action = payload.get("action")
    if event == "check_suite" and action not in {"requested", "rerequested"}:
        return "ignored"
    if event == "check_run" and action != "rerequested":
        return "ignored"
    suite = (
        payload["check_suite"] if event == "check_suite" else payload["check_run"]["check_suite"]
    )
    sha = str(suite["head_sha"])
    owner, name = payload["repository"]["full_name"].split("/", 1)
    target = Target(
        owner, name, sha, gate_branch=str(suite.get("head_branch") or ""), config_ref=sha
    )
    return await judge(github, sessions, delivery_id, payload, target)


async def _suppression_policy(gh: GitHub[Any], target: Target, results: dict[str, Any]) -> Any:
    """On a pull request, a suppression counts for a stop-ship finding only when the base branch
    already had it: otherwise a pull request could silence its own gate."""
    if target.base_sha is None or target.changed_paths is None:
        return None
    base_text: dict[str, str] = {}
    for path in target.changed_paths:
        result = results.get(path)
        if result is not None and result.suppressions:
            data = await snapshot.file_at(gh, target.owner, target.name, path, target.base_sha)
            base_text[path] = data.decode("utf-8", errors="replace") if data else ""

    def policy(path: str, suppression: Any, finding: Any) -> bool:
        if not finding.stop_ship or path not in base_text:
            return True
        marker = f"stopship: ignore[{','.join(suppression.rules)}]"
        return marker in base_text[path]

    return policy


@dataclass
class Evaluation:
    """A judged commit before anything is published: its config, the report, and the per-file
    results computed fresh (to be cached) under their cache keys."""

    config: StopshipConfig
    report: Report
    rules: Ruleset
    fresh: dict[str, EngineResult]
    keys: dict[str, str]
    fetched: int


async def evaluate(
    gh: GitHub[Any],
    sessions: async_sessionmaker[AsyncSession],
    repository_id: int,
    repo_full_name: str,
    target: Target,
) -> Evaluation:
    """Judge `target` without publishing anything: config from `target.config_ref`, the tree,
    only uncached blobs, the repository's waivers in force, the engine. Raises ConfigError when
    the configuration is invalid."""
    owner, name, sha = target.owner, target.name, target.sha
    raw = await snapshot.file_at(gh, owner, name, CONFIG_PATH, target.config_ref)
    rules = ruleset()
    config = parse_config(raw)
    check_rule_ids(config, set(rules.by_id))
    files, skipped = await snapshot.tree(gh, owner, name, sha)
    analyzer = Analyzer(rules)
    keys = {f.path: f"{f.blob_sha}:{analyzer.path_kind(f.path)}:{rules.digest}" for f in files}
    cached = await _cached(sessions, list(set(keys.values())))
    missing = [f for f in files if keys[f.path] not in cached]
    contents = await snapshot.blobs(gh, owner, name, missing)
    results: dict[str, EngineResult] = {p: cached[k] for p, k in keys.items() if k in cached}
    fresh: dict[str, EngineResult] = {}
    for path, data in contents.items():
        if data is None:
            skipped["binary"] = skipped.get("binary", 0) + 1
            continue
        fresh[path] = analyzer.analyze(path, data)
    results.update(fresh)
    async with sessions() as session:
        waivers = await waiver_store.in_force(session, repository_id)
    audit = AuditInput(
        repo=repo_full_name,
        paths=sorted(results),
        results=results,
        stats=ScanStats(
            files_total=len(files),
            files_analyzed=len(fresh),
            cache_hits=len(results) - len(fresh),
            skipped=skipped,
        ),
        changed_paths=target.changed_paths,
        suppression_policy=await _suppression_policy(gh, target, results),
        waivers=waivers,
    )
    report = build_report(rules, config, audit)
    return Evaluation(config, report, rules, fresh, {p: keys[p] for p in fresh}, len(missing))


async def remember_results(session: AsyncSession, evaluation: Evaluation) -> None:
    """Add the freshly computed file results to the cache (the caller commits)."""
    for path, result in evaluation.fresh.items():
        key = evaluation.keys[path]
        if await session.get(FileResult, key) is None:
            session.add(FileResult(key=key, result=json.dumps(result_to_dict(result))))


async def cache_results(sessions: async_sessionmaker[AsyncSession], evaluation: Evaluation) -> None:
    """Store the freshly computed file results on their own (jobs that store no analysis)."""
    async with sessions() as session:
        await remember_results(session, evaluation)
        try:
            await session.commit()
        except IntegrityError:
            # another job cached the same file result first; the cache is only an optimisation
            await session.rollback()


async def judge(
    github: GitHubFactory,
    sessions: async_sessionmaker[AsyncSession],
    delivery_id: str,
    payload: dict[str, Any],
    target: Target,
) -> str:
    repo = payload["repository"]
    owner, name, sha = target.owner, target.name, target.sha
    gh = github(int(payload["installation"]["id"]))
    started = time.perf_counter()
    run_id = await check_runs.start(gh, owner, name, sha)
    try:
        try:
            evaluation = await evaluate(gh, sessions, int(repo["id"]), repo["full_name"], target)
        except ConfigError as exc:
            await check_runs.fail(gh, owner, name, run_id, f"Invalid configuration: {exc}")
            return "done"
        report, rules, config = evaluation.report, evaluation.rules, evaluation.config
        conclusion = conclusion_for(
            report, target.gate_branch, config.release_branches, config.conclusion_outside_release
        )
        await check_runs.complete(gh, owner, name, run_id, report, rules, conclusion)
    except Exception as exc:
        log.exception("analysis failed", delivery=delivery_id, repo=repo["full_name"], sha=sha)
        await check_runs.fail(gh, owner, name, run_id, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    async with sessions() as session:
        repository_id = await _ensure_repository(session, payload)
        await remember_results(session, evaluation)
        analysis = Analysis(
            repository_id=repository_id,
            sha=sha,
            ruleset_digest=rules.digest,
            score=report.score,
            grade=report.grade,
            verdict=report.verdict,
            check_run_id=run_id,
            delivery_id=delivery_id,
        )
        session.add(analysis)
        await session.flush()
        for f in report.findings:
            session.add(
                FindingRow(
                    analysis_id=analysis.id,
                    fingerprint=f.fingerprint,
                    rule=f.rule,
                    severity=str(f.severity),
                    stop_ship=f.stop_ship,
                    path=f.path,
                    line=f.line,
                    message=f.message,
                )
            )
        await session.commit()
    log.info(
        "commit judged",
        delivery=delivery_id,
        repo=repo["full_name"],
        sha=sha,
        score=report.score,
        conclusion=conclusion,
        fetched=evaluation.fetched,
        seconds=round(time.perf_counter() - started, 3),
    )
    return "done"
