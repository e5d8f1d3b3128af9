"""The alarm rate a team would live with: replay the last N first-parent commits of a repository
as pull requests into `main`, with the default config, and report per commit the findings it
introduces and whether the gate fails.

    python benchmarks/replay.py CHECKOUT [--commits 100] [--json-only]

Each commit C (with its first parent P) is judged as the Action judges a pull request from P to
C: the files of C in a scratch worktree (objects shared with CHECKOUT; files the checkout's
object store lacks are left out and counted), `stopship check --changed-since P` with the
default config (the repository's own `.github/stopship.yml` is not read) and the release
baseline from the tags reachable from C. The gate fails when a stop-ship is open in the files
the commit changes (or about the repository), as the check run of a pull request into `main`
does. "Introduced" are findings of the changed files that P's report did not have.

Prints one line per commit, every failing commit with its stop-ship findings, the totals, and
one JSON line (the last line). Not run in CI: it needs a real checkout
(tests/benchmarks/test_replay.py runs it on a tiny repository built in the test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.checkout.audit_local import audit_checkout  # noqa: E402
from app.engine.model import Finding  # noqa: E402
from app.engine.report import Report  # noqa: E402

EMPTY_CONFIG = "empty-stopship.yml"


@dataclass
class Verdict:
    sha: str
    subject: str
    changed: int
    introduced: list[Finding] = field(default_factory=list)
    blocking: list[Finding] = field(default_factory=list)
    missing: int = 0
    seconds: float = 0.0

    @property
    def fails(self) -> bool:
        return bool(self.blocking)


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Worktree:
    """A detached worktree of the checkout whose files are written from git's objects, commit
    after commit (only what changed), so that a mirror lacking some blobs can still be replayed."""

    def __init__(self, checkout: Path, where: Path) -> None:
        self.checkout, self.root = checkout, where
        git(checkout, "worktree", "add", "--no-checkout", "--detach", str(where), "HEAD")
        self.sha: str | None = None
        self.missing = 0

    def move_to(self, sha: str) -> None:
        if self.sha is None:
            changes = [("A", p) for p in git(self.root, "ls-tree", "-r", "--name-only", "-z",
                                               sha).split("\0") if p]  # fmt: skip
        else:
            listed = git(self.root, "diff", "--name-status", "--no-renames", "-z", self.sha, sha)
            items = listed.split("\0")
            changes = [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        git(self.root, "update-ref", "--no-deref", "HEAD", sha)
        git(self.root, "read-tree", sha)
        wanted = [p for status, p in changes if not status.startswith("D")]
        for status, path in changes:
            if status.startswith("D"):
                (self.root / path).unlink(missing_ok=True)
        self.missing = 0
        for start in range(0, len(wanted), 500):
            self._write(sha, wanted[start : start + 500])
        self.sha = sha

    def _write(self, sha: str, paths: list[str]) -> None:
        request = "".join(f"{sha}:{p}\n" for p in paths).encode()
        done = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=self.root, input=request, capture_output=True,
            check=True,
        )  # fmt: skip
        out, at = done.stdout, 0
        for path in paths:
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            if header[-1] == b"missing":
                self.missing += 1
                at = header_end + 1
                continue
            size = int(header[2])
            data = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
            target = self.root / path
            if header[1] != b"blob":
                continue  # a submodule
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            target.write_bytes(data)

    def close(self) -> None:
        git(self.checkout, "worktree", "remove", "--force", str(self.root), check=False)


def in_changed(report: Report, changed: set[str]) -> list[Finding]:
    return [f for f in report.findings if f.path is None or f.path in changed]


def replay(checkout: Path, commits: int, cache: Path) -> list[Verdict]:
    shas = git(checkout, "rev-list", "--first-parent", f"--max-count={commits + 1}", "HEAD").split()
    shas.reverse()
    os.environ["STOPSHIP_CACHE_DIR"] = str(cache)
    empty = cache / EMPTY_CONFIG
    empty.write_text("# the default config\n")
    verdicts: list[Verdict] = []
    scratch = Path(tempfile.mkdtemp(prefix="stopship-replay-"))
    tree = Worktree(checkout, scratch / "tree")
    try:
        previous: set[str] | None = None
        for i, sha in enumerate(shas):
            started = time.perf_counter()
            tree.move_to(sha)
            whole, _ = audit_checkout(tree.root, config_file=empty)
            before = previous
            previous = {f.fingerprint for f in whole.findings}
            if i == 0:
                continue  # the parent of the first replayed commit
            parent = shas[i - 1]
            changed = {p for p in git(tree.root, "diff", "--name-only", parent, sha).splitlines()}
            pr, _ = audit_checkout(tree.root, config_file=empty, changed_since=parent)
            listed = in_changed(pr, changed)
            subject = git(checkout, "log", "-1", "--format=%s", sha).strip()
            verdicts.append(
                Verdict(
                    sha,
                    subject[:72],
                    len(changed),
                    introduced=[f for f in listed if before is None or f.fingerprint not in before],
                    blocking=[f for f in listed if f.stop_ship],
                    missing=tree.missing,
                    seconds=time.perf_counter() - started,
                )
            )
    finally:
        tree.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    if not (args.checkout / ".git").exists():
        parser.error(f"{args.checkout}: not a git checkout")
    cache = Path(tempfile.mkdtemp(prefix="stopship-replay-cache-"))
    try:
        verdicts = replay(args.checkout.resolve(), args.commits, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    failing = [v for v in verdicts if v.fails]
    lines = [f"{'commit':9} {'files':>5} {'new':>4} {'stop':>4} gate  subject"]
    for v in verdicts:
        lines.append(
            f"{v.sha[:8]:9} {v.changed:>5} {len(v.introduced):>4} {len(v.blocking):>4} "
            f"{'FAIL' if v.fails else 'pass'}  {v.subject}"
        )
    lines += ["", f"Gate failures: {len(failing)} of {len(verdicts)} commits"]
    for v in failing:
        lines.append(f"  {v.sha[:8]} {v.subject}")
        for f in v.blocking:
            new = "introduced" if f in v.introduced else "already there"
            lines.append(f"    {f.rule} {f.path}:{f.line} {f.message} ({new})")
    summary = {
        "repository": args.checkout.name,
        "commits": len(verdicts),
        "gate_failures": len(failing),
        "alarm_rate": round(len(failing) / len(verdicts), 3) if verdicts else 0.0,
        "introduced": sum(len(v.introduced) for v in verdicts),
        "introduced_stop_ship": sum(1 for v in verdicts for f in v.introduced if f.stop_ship),
        "failing": [
            {
                "sha": v.sha,
                "stop_ships": [
                    {
                        "rule": f.rule,
                        "path": f.path,
                        "line": f.line,
                        "introduced": f in v.introduced,
                    }
                    for f in v.blocking
                ],
            }
            for v in failing
        ],
        "files_missing_from_the_mirror": max((v.missing for v in verdicts), default=0),
        "seconds": round(sum(v.seconds for v in verdicts), 1),
    }
    if not args.json_only:
        print("\n".join(lines))
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
