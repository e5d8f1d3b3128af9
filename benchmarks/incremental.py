"""Incremental analysis behind the fake GitHub: what a push costs as the repository grows.

    python benchmarks/incremental.py [--files 20000] [--small 2000] [--runs 5]

Builds a synthetic repository (the generator of benchmarks/scan.py: mixed-language services,
5% of files with planted defects, 2-12 KB each) as a real git repository served by the test
suite's fake GitHub (every request checked against GitHub's OpenAPI description), then runs a
worker in its own process (SQLite database, the App's job code, githubkit over HTTP) and
measures in one run:

- the full first analysis (tarball),
- pushes changing 1, 10 and 100 files (median of --runs pushes each), with the API requests
  each sent before publishing (tree, blobs, tarball, contents; the check run's own requests and
  the installation token are not counted),
- the same 1-file push on a repository of --small files, for the growth ratio,
- the worker's peak memory.

The fake answers a tree request from a listing it prepares when the commit is made (as GitHub
answers from its own storage), so the times are the worker's: transfer and parsing of the
listing, cache look-ups, the engine, publishing, the database. Prints a table and one JSON line;
exits 1 when a target is missed: a 1-file push at most 1/50 of the full analysis and exactly
1 tree + 1 blob request, the 1-file push on --files within 1.5x of the one on --small, and the
worker's peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from tests.gitrepo import git  # noqa: E402 - the path above makes the test helpers importable

TARGET_FULL_RATIO = 50.0
TARGET_GROWTH = 1.5
TARGET_PEAK_MB = 500.0
COUNTED = ("/git/trees/", "/git/blobs/", "/tarball/", "/contents/")


def build_repository(path: Path, files: int) -> tuple[str, float]:
    from scan import build_tree  # benchmarks/scan.py

    path.mkdir(parents=True)
    _, size = build_tree(path, files)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "synthetic monorepo")
    return git(path, "rev-parse", "HEAD"), size / 1_000_000


# ---------------------------------------------------------------- the worker (child process)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across the
    fork and exec that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def worker(url: str, database: str) -> None:
    """Judge each push read from stdin (one JSON object a line); answer one JSON line each."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from sqlalchemy import func, select

    from app.jobs.intake import analyse_push
    from app.settings import Settings
    from app.store.db import make_engine, make_sessions
    from app.store.migrate import upgrade
    from app.store.models import Analysis, Delivery, FindingRow
    from app.web.app import github_factory

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = Settings(
        database_url=database, github_app_id=1, github_private_key=pem, github_api_url=url
    )
    await asyncio.to_thread(upgrade, database)
    engine = make_engine(database)
    sessions = make_sessions(engine)
    github = github_factory(settings)
    assert github is not None
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        push = json.loads(line)
        if push.get("peak"):
            print(json.dumps({"peak_mb": peak_mb()}), flush=True)
            continue
        payload = {
            "ref": "refs/heads/main",
            "before": push["before"],
            "after": push["after"],
            "created": push["before"] is None,
            "deleted": False,
            "commits": [
                {"id": push["after"], "added": [], "removed": [], "modified": push["modified"]}
            ],
            "repository": {"id": 1, "full_name": "octo/mono", "name": "mono"},
            "installation": {"id": 7},
        }
        if push["before"] is None:
            payload["before"] = "0" * 40
        async with sessions() as session:
            session.add(Delivery(id=push["delivery"], event="push", payload="{}", status="running"))
            await session.commit()
        started_at, started = time.time(), time.perf_counter()
        status = await analyse_push(github, sessions, push["delivery"], payload)
        seconds = time.perf_counter() - started
        async with sessions() as session:
            rows = await session.scalar(
                select(func.count())
                .select_from(FindingRow)
                .join(Analysis, Analysis.id == FindingRow.analysis_id)
                .where(Analysis.delivery_id == push["delivery"])
            )
        result = {"status": status, "seconds": seconds, "started_at": started_at, "rows": rows}
        print(json.dumps({**result, "peak_mb": peak_mb()}), flush=True)
    await engine.dispose()


# ---------------------------------------------------------------- the driver (parent process)


class Worker:
    def __init__(self, url: str, database: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", url, "--database", database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "STOPSHIP_LOG_LEVEL": "warning"},
        )
        assert self._read()["ready"]

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        while True:
            line = stdout.readline()
            if not line:
                raise RuntimeError("the worker stopped")
            if line.startswith("{"):
                result: dict[str, Any] = json.loads(line)
                return result

    def judge(self, before: str | None, after: str, modified: list[str], delivery: str) -> Any:
        assert self.process.stdin is not None
        message = {"before": before, "after": after, "modified": modified, "delivery": delivery}
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        return self._read()

    def peak_mb(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"peak": True}) + "\n")
        self.process.stdin.flush()
        return float(self._read()["peak_mb"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def verdict_after(fake: Any, since: int, started_at: float) -> float:
    """Seconds from the job's start to the request that completed its check run."""
    done = [
        r.at
        for r in fake.requests[since:]
        if r.method == "PATCH" and (r.body or {}).get("status") == "completed"
    ]
    return max(done) - started_at


def requests_of(fake: Any, since: int) -> dict[str, int]:
    out = {fragment.strip("/").split("/")[-1]: 0 for fragment in COUNTED}
    for request in fake.requests[since:]:
        for fragment in COUNTED:
            if request.method == "GET" and fragment in request.path:
                out[fragment.strip("/").split("/")[-1]] += 1
    return out


def change_files(repo: Path, paths: list[str], count: int, rng: random.Random, n: int) -> list[str]:
    chosen = rng.sample(paths, count)
    for rel in chosen:
        with (repo / rel).open("a") as handle:
            handle.write(f"\n# change {n}\n" if not rel.endswith(".sql") else f"\n-- change {n}\n")
    git(repo, "commit", "-qam", f"change {count} files ({n})")
    return chosen


def measure(repo: Path, head: str, sizes: list[int], runs: int, work: Path) -> dict[str, Any]:
    """The full analysis of `repo` and `runs` pushes of each size in `sizes`."""
    from tests.app.fake_github import FakeGitHub, start

    fake = FakeGitHub(repo_dir=repo)
    server = start(fake)
    worker = Worker(fake.url, f"sqlite+aiosqlite:///{work / (repo.name + '.db')}")
    out: dict[str, Any] = {"pushes": {}}
    try:
        fake.prepare_tree(head)
        since = len(fake.requests)
        first = worker.judge(None, head, [], "full")
        verdict = verdict_after(fake, since, first["started_at"])
        out["full"] = {**first, "verdict": verdict, "requests": requests_of(fake, since)}
        paths = [p for p in git(repo, "ls-files").splitlines() if not p.endswith("Dockerfile")]
        rng = random.Random(11)
        before, n = head, 0
        for size in sizes:
            results = []
            for _ in range(runs):
                n += 1
                changed = change_files(repo, paths, size, rng, n)
                after = git(repo, "rev-parse", "HEAD")
                fake.prepare_tree(after)
                since = len(fake.requests)
                result = worker.judge(before, after, changed, f"push-{n}")
                verdict = verdict_after(fake, since, result["started_at"])
                results.append({**result, "verdict": verdict, "requests": requests_of(fake, since)})
                before = after
            out["pushes"][size] = {
                "seconds": statistics.median(r["seconds"] for r in results),
                "rows": statistics.median(r["rows"] for r in results),
                "verdict": statistics.median(r["verdict"] for r in results),
                "requests": results[-1]["requests"],
                "all_requests": [r["requests"] for r in results],
                "statuses": sorted({r["status"] for r in results}),
            }
        out["peak_mb"] = worker.peak_mb()
    finally:
        worker.close()
        server.shutdown()
    problems = list(fake.problems)
    assert not problems, problems[:5]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.worker, args.database))
        return 0

    work = Path(tempfile.mkdtemp(prefix="stopship-incremental-"))
    try:
        big_head, big_mb = build_repository(work / "big", args.files)
        small_head, small_mb = build_repository(work / "small", args.small)
        print(
            f"repositories: {args.files} files ({big_mb:.0f} MB), {args.small} files "
            f"({small_mb:.0f} MB); {os.cpu_count()} cores; median of {args.runs} pushes"
        )
        big = measure(work / "big", big_head, [1, 10, 100], args.runs, work)
        small = measure(work / "small", small_head, [1], args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return report(args, big, small)


def report(args: argparse.Namespace, big: dict[str, Any], small: dict[str, Any]) -> int:
    """The table, the verdicts on the targets, and one JSON line."""
    full, one = big["full"], big["pushes"][1]
    growth = one["seconds"] / small["pushes"][1]["seconds"]
    rows = [(f"full analysis, {args.files} files", full)]
    rows += [
        (f"push of {k} file{'s' if k > 1 else ''}, {args.files} files", p)
        for k, p in big["pushes"].items()
    ]
    rows += [(f"full analysis, {args.small} files", small["full"])]
    rows += [(f"push of 1 file, {args.small} files", small["pushes"][1])]
    print(
        f"{'run':<34}{'job s':>8}{'verdict s':>10}{'trees':>7}{'blobs':>7}{'tarball':>9}"
        f"{'contents':>10}{'rows':>8}"
    )
    for label, run in rows:
        req = run["requests"]
        print(
            f"{label:<34}{run['seconds']:>8.3f}{run['verdict']:>10.3f}{req['trees']:>7}"
            f"{req['blobs']:>7}{req['tarball']:>9}{req['contents']:>10}{run['rows']:>8.0f}"
        )
    exact = all(
        r == {"trees": 1, "blobs": 1, "tarball": 0, "contents": 0} for r in one["all_requests"]
    )
    ratio = full["seconds"] / one["seconds"]
    checks = [
        (
            f"1-file push = 1/{ratio:.0f} of the full analysis (job time; verdict: "
            f"1/{full['verdict'] / one['verdict']:.0f}) (target <= 1/{TARGET_FULL_RATIO:.0f})",
            ratio >= TARGET_FULL_RATIO,
        ),
        ("1-file push: exactly 1 tree + 1 blob request before publishing (every run)", exact),
        (
            f"1-file push {args.files} vs {args.small} files: {growth:.2f}x "
            f"(target <= {TARGET_GROWTH})",
            growth <= TARGET_GROWTH,
        ),
        (
            f"worker peak memory {big['peak_mb']:.0f} MB (target < {TARGET_PEAK_MB:.0f})",
            big["peak_mb"] < TARGET_PEAK_MB,
        ),
    ]
    for label, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {label}")
    summary = {
        "files": args.files,
        "small_files": args.small,
        "runs": args.runs,
        "full_seconds": round(full["seconds"], 3),
        "full_verdict_seconds": round(full["verdict"], 3),
        "push_seconds": {str(k): round(p["seconds"], 4) for k, p in big["pushes"].items()},
        "push_verdict_seconds": {str(k): round(p["verdict"], 4) for k, p in big["pushes"].items()},
        "push_requests": {str(k): p["requests"] for k, p in big["pushes"].items()},
        "full_finding_rows": full["rows"],
        "push_finding_rows": {str(k): p["rows"] for k, p in big["pushes"].items()},
        "small_full_seconds": round(small["full"]["seconds"], 3),
        "small_push_1_seconds": round(small["pushes"][1]["seconds"], 4),
        "full_over_push_1": round(ratio, 1),
        "growth_push_1": round(growth, 2),
        "peak_worker_mb": round(big["peak_mb"], 1),
        "small_peak_worker_mb": round(small["peak_mb"], 1),
        "targets_met": all(ok for _, ok in checks),
    }
    print(json.dumps(summary))
    return 0 if summary["targets_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
