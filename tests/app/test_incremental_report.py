"""A push judged from the previous commit (tree listing, files and report state kept by the
worker) gives the report a full analysis of the commit gives: every file read from git and
analysed, and build_report, as before incremental reports. Through edits that move lines,
renames, removals and additions, a waiver added between pushes and a config change between
pushes, and for a pull request against its base. The findings each push stores as changes
are, for every analysis of the branch, the findings its report listed."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.engine import baseline
from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.config import CONFIG_PATH, parse_config
from app.engine.model import FileResult, Finding, Suppression, Waiver
from app.engine.paths import matches_any
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.snapshot import looks_binary
from app.github.comparison import changed_paths, compare
from app.github.tree_listing import SYMLINK_MODE, skip_reason
from app.jobs.analyse import Target, evaluate
from app.store import findings as finding_store
from app.store import waivers as waiver_store
from app.store.models import Analysis, FindingRow, WaiverRow
from tests.app.app_harness import running_app
from tests.app.fake_github import FakeGitHub
from tests.app.test_incremental import commit, head, pushed
from tests.app.test_push_analysis import (  # noqa: F401 - fixtures
    BAD,
    SECRET,
    client,
    fake,
    push,
    push_payload,
)
from tests.gitrepo import git

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
REPOSITORY_ID = push_payload("0" * 40)["repository"]["id"]
SUPPRESSED = (
    "def q(c, x):\n"
    "    # stopship: ignore[SEC002] ids are integers, checked by the router\n"
    '    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    for service in ("go-bad", "fastapi-bad", "flask-good"):
        shutil.copytree(CORPUS / service, root / service)
    (root / ".github").mkdir()
    (root / ".github" / "stopship.yml").write_text("launch: {stage: public}\n")
    (root / "app").mkdir()
    (root / "app" / "users.py").write_text(BAD)
    (root / "app" / "admin.py").write_text(SUPPRESSED)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


def full_results(repo: Path, sha: str, analyzer: Analyzer) -> dict[str, FileResult]:
    """Every analysable file of the commit, read from git and analysed (no cache)."""
    config = parse_config(_show(repo, sha, CONFIG_PATH))
    results = {}
    for line in git(repo, "ls-tree", "-r", "-l", sha).splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, _, size = meta.split()
        if kind != "blob" or mode == SYMLINK_MODE or skip_reason(path, int(size)):
            continue
        if matches_any(path, config.ignore_paths):
            continue
        data = _show(repo, sha, path)
        assert data is not None
        if not looks_binary(data):
            results[path] = analyzer.analyze(path, data)
    return results


def _show(repo: Path, sha: str, path: str) -> bytes | None:
    done = subprocess.run(["git", "show", f"{sha}:{path}"], cwd=repo, capture_output=True)
    return done.stdout if done.returncode == 0 else None


def full_report(
    repo: Path, sha: str, ruleset: Ruleset, analyzer: Analyzer, waivers: dict[str, Waiver]
) -> Report:
    config = parse_config(_show(repo, sha, CONFIG_PATH))
    results = full_results(repo, sha, analyzer)
    audit = AuditInput("octo/shop", sorted(results), results, waivers=waivers)
    return build_report(ruleset, config, audit)


def assert_same(got: Report, want: Report) -> None:
    """Equal in every field but the scan statistics (cache hits differ by design) and the gate's
    reason (the App's context says where the commit was judged; build_report knows none)."""
    for field in fields(Report):
        # what the App adds beyond the tree (app/jobs/repository_context.py) is not the engine's
        if field.name not in ("stats", "gate_reason", "branch_protection", "score_history"):
            assert getattr(got, field.name) == getattr(want, field.name), field.name


async def judged(http: httpx.AsyncClient, sha: str, target: Target | None = None) -> Report:
    app = http.app  # type: ignore[attr-defined]
    target = target or Target("octo", "shop", sha, gate_branch="main", config_ref=sha)
    evaluation = await evaluate(
        app.state.github(77), app.state.sessions, REPOSITORY_ID, "octo/shop", target
    )
    return evaluation.report


async def waivers_now(http: httpx.AsyncClient) -> dict[str, Waiver]:
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        return await waiver_store.in_force(session, REPOSITORY_ID)


async def stored_rows(http: httpx.AsyncClient) -> list[tuple[int, set[finding_store.Row]]]:
    """Every analysis of the repository, oldest first, with its findings as stored."""
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        ids = list(await session.scalars(select(Analysis.id).order_by(Analysis.id)))
        return [(i, await finding_store.rows_of(session, i)) for i in ids]


async def test_each_push_gives_the_report_of_a_full_analysis_and_stores_it(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
    ruleset: Ruleset,
    analyzer: Analyzer,
) -> None:
    expected: list[set[finding_store.Row]] = []

    async def step(before: str | None, delivery: str) -> Report:
        sha = head(repo)
        payload = push_payload(sha) if before is None else pushed(repo, before, sha)
        await push(client, payload, delivery)
        final = fake.calls("PATCH", "/check-runs/")[-1].body
        assert final["status"] == "completed"
        waivers = await waivers_now(client)
        want = full_report(repo, sha, ruleset, analyzer, waivers)
        assert final["output"]["title"].startswith(f"Score {want.score}/100")
        assert_same(await judged(client, sha), want)
        expected.append({finding_store.row_of(f) for f in want.findings})
        return want

    first = await step(None, "p-1")
    sha = head(repo)
    # lines move in a file with findings, a file is renamed, one removed, one added
    commit(repo, "edit", {"app/users.py": "# moved down\n" + BAD})
    git(repo, "mv", "go-bad/main.go", "go-bad/server.go")
    git(repo, "rm", "-q", "fastapi-bad/requirements.txt")
    second = commit(repo, "more", {"app/extra.py": BAD.replace("find", "extra")})
    await step(sha, "p-2")
    # a waiver accepted between pushes: the same commit judged again, then the next push
    waived = next(f for f in first.findings if f.path == "app/users.py")
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        await waiver_store.record(
            session,
            WaiverRow(
                repository_id=REPOSITORY_ID,
                fingerprint=waived.fingerprint,
                reason="checked",
                created_by="octocat",
            ),
        )
        await session.commit()
    again = await judged(client, second)
    assert waived.fingerprint in {f.fingerprint for f in again.suppressed}
    assert_same(again, full_report(repo, second, ruleset, analyzer, await waivers_now(client)))
    third = commit(repo, "edit again", {"app/extra.py": "# up\n" + BAD.replace("find", "extra")})
    await step(second, "p-3")
    # the config changes between pushes: a rule disabled, a severity raised, a folder ignored
    config = (
        "launch: {stage: paid, payments: true}\n"
        "rules: {disable: [OBS001], severity: {ERR002: critical}}\n"
        "ignore_paths: ['flask-good/**']\n"
    )
    commit(repo, "config", {CONFIG_PATH: config})
    await step(third, "p-4")
    fourth = head(repo)
    commit(repo, "back", {CONFIG_PATH: "launch: {stage: public}\n", "app/admin.py": BAD})
    await step(fourth, "p-5")

    stored = await stored_rows(client)
    assert [rows for _, rows in stored] == expected
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        per_analysis = dict(
            (
                await session.execute(
                    select(FindingRow.analysis_id, func.count()).group_by(FindingRow.analysis_id)
                )
            ).all()
        )
    # the third push moved the lines of one file: only that file's findings were written again
    assert 0 < per_analysis.get(stored[2][0], 0) <= 2 < len(expected[2])


def old_change_report(
    repo: Path,
    base: str,
    head_sha: str,
    target: Target,
    ruleset: Ruleset,
    analyzer: Analyzer,
    waivers: dict[str, Waiver],
) -> Report:
    """A pull request's report as it was made before incremental reports: build_report for the
    head with the base's suppressions as policy, build_report for the base carried along the
    renames, and the comparison."""
    config = parse_config(_show(repo, base, CONFIG_PATH))
    head_results = full_results(repo, head_sha, analyzer)
    base_results = full_results(repo, base, analyzer)

    def blobs(sha: str) -> dict[str, str]:
        out = {}
        for line in git(repo, "ls-tree", "-r", sha).splitlines():
            meta, path = line.split("\t", 1)
            out[path] = meta.split()[2]
        return out

    moved = baseline.renames(blobs(base), blobs(head_sha), dict(target.renames))
    carried = baseline.carried(base_results, moved)

    def policy(path: str, suppression: Suppression, finding: Finding) -> bool:
        if not finding.stop_ship:
            return True
        before = carried.get(path)
        return before is not None and any(s.rules == suppression.rules for s in before.suppressions)

    report = build_report(
        ruleset,
        config,
        AuditInput(
            "octo/shop",
            sorted(head_results),
            head_results,
            changed_paths=target.changed_paths,
            suppression_policy=policy,
            waivers=waivers,
        ),
    )
    base_report = build_report(
        ruleset,
        config,
        AuditInput(
            "octo/shop",
            sorted(carried),
            carried,
            changed_paths=target.changed_paths,
            waivers=waivers,
        ),
    )
    report.baseline = baseline.compare(report, base_report, base)
    return report


async def test_a_pull_request_gives_the_report_of_a_full_analysis(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
    ruleset: Ruleset,
    analyzer: Analyzer,
) -> None:
    base = head(repo)
    await push(client, push_payload(base), "p-1")
    git(repo, "checkout", "-qb", "topic")
    git(repo, "mv", "app/users.py", "app/accounts.py")
    silenced = BAD.replace("'\")\n", "'\")  # stopship: ignore[SEC002] trust me\n")
    commit(repo, "change", {"app/accounts.py": silenced, "app/admin.py": "x = 1\n"})
    change = commit(repo, "more", {"go-bad/main.go": "// top\n" + _text(repo, "go-bad/main.go")})
    app = client.app  # type: ignore[attr-defined]
    gh = app.state.github(77)
    async with gh:
        comparison = await compare(gh, "octo", "shop", base, change)
        assert await changed_paths(gh, "octo", "shop", base, change) == comparison.changed
    target = Target(
        "octo",
        "shop",
        change,
        kind="pull_request",
        gate_branch="main",
        config_ref=base,
        changed_paths=comparison.changed,
        base_sha=base,
        renames=comparison.renames,
    )
    got = await judged(client, change, target)
    want = old_change_report(repo, base, change, target, ruleset, analyzer, {})
    assert_same(got, want)
    # the moved finding keeps its identity; the suppression the change adds to it is refused
    assert got.baseline is not None
    assert ("SEC002", "app/accounts.py") in {(f.rule, f.path) for f in got.baseline.existing}


def _text(repo: Path, path: str) -> str:
    return (repo / path).read_text()


async def test_a_worker_that_did_not_store_the_last_analysis_reads_it_from_the_database(
    client: httpx.AsyncClient,
    fake: FakeGitHub,
    repo: Path,
    ruleset: Ruleset,
    analyzer: Analyzer,
    database_url: str,
) -> None:
    first = head(repo)
    await push(client, push_payload(first), "p-1")
    second = commit(repo, "edit", {"app/users.py": "# moved\n" + BAD, "app/admin.py": "x = 1\n"})
    async with running_app(database_url, fake) as other:
        await push(other, pushed(repo, first, second), "p-2")
    third = commit(repo, "edit", {"app/users.py": "# moved again\n# and again\n" + BAD})
    await push(client, pushed(repo, second, third), "p-3")
    stored = await stored_rows(client)
    want = [full_report(repo, sha, ruleset, analyzer, {}) for sha in (first, second, third)]
    assert [rows for _, rows in stored] == [
        {finding_store.row_of(f) for f in report.findings} for report in want
    ]
