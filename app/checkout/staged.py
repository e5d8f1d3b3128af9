"""The staged change (git's index) audited against HEAD, as a pre-commit hook asks: which findings
the commit being made introduces.

The index and HEAD are copied out with git's plumbing (a temporary index file per tree, then
`checkout-index`) into a temporary folder, HEAD's files under the names the change gives them
(renames as git reports them, plus moved blobs: `app.engine.baseline.renames`), each copy is
audited as a checkout, and the two reports are compared by fingerprint with
`app.engine.baseline.compare`, as the App compares a pull request with its base. Neither the
work tree nor the real index is touched. No HEAD (the first commit): everything staged is new.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from app.checkout.audit_local import LocalAuditError, audit_checkout
from app.checkout.scan import Progress
from app.engine import baseline
from app.engine.config import CONFIG_PATH
from app.engine.overrides import Overrides
from app.engine.report import FindingsDiff, Report
from app.engine.ruleset import Ruleset

GITLINK = "160000"  # a submodule: no file to audit


def audit_staged(
    path: Path,
    *,
    config_file: Path | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: Progress | None = None,
    release: str | None = None,
    overrides: Overrides | None = None,
) -> tuple[Report, Ruleset]:
    """The staged tree of the folder `path` (in a git repository) audited, listing the findings of
    the staged files, with `report.baseline` saying what the staged change introduces against
    HEAD. Both trees are judged with one config: `config_file`, else the staged one."""
    if not path.is_dir():
        raise LocalAuditError(f"{path}: not a directory")
    root = path.resolve()
    try:
        top = Path(os.fsdecode(_git(root, "rev-parse", "--show-toplevel")).strip())
    except LocalAuditError:
        raise LocalAuditError(f"--staged: {path} is not in a git repository") from None
    prefix = os.fsdecode(_git(root, "rev-parse", "--show-prefix")).strip()
    spec = prefix or "."
    head = _head(top)
    staged = _index_entries(top, spec, prefix)
    if not staged:
        raise LocalAuditError(f"--staged: no file of {path} is in git's index (git add them)")
    before = _tree_entries(top, head, spec, prefix) if head else {}
    moved = baseline.renames(
        {p: sha for p, (_, sha) in before.items()},
        {p: sha for p, (_, sha) in staged.items()},
        _reported_renames(top, head, spec, prefix) if head else {},
    )
    carried = baseline.carried(before, moved)
    changed = {p for p, entry in staged.items() if carried.get(p) != entry}
    with tempfile.TemporaryDirectory(prefix="stopship-staged-") as tmp:
        work = Path(tmp)
        staged_dir = _export(top, work, "staged", prefix, staged)
        audit = partial(
            audit_checkout,
            use_cache=use_cache,
            jobs=jobs,
            progress=progress,
            baseline=release,
            git_root=root,
            changed_paths=changed,
            overrides=overrides,
            # a commit hook does not wait on the network: OSV is asked by check and the Action
            vulnerabilities=False,
        )
        report, ruleset = audit(staged_dir, config_file=config_file)
        if head is None:
            report.baseline = FindingsDiff("", list(report.findings), [], [])
            return report, ruleset
        if config_file is None:  # HEAD is judged by the staged config too (or by none)
            config_file = staged_dir / CONFIG_PATH
            if not config_file.is_file():
                config_file = work / "no-config.yml"
                config_file.write_bytes(b"")
        head_dir = _export(top, work, "head", prefix, carried)
        if not any(head_dir.iterdir()):
            report.baseline = FindingsDiff(head, list(report.findings), [], [])
            return report, ruleset
        base_report, _ = audit(head_dir, config_file=config_file)
    report.baseline = baseline.compare(report, base_report, head)
    return report, ruleset


Entries = dict[str, tuple[str, str]]  # path below the folder -> (mode, blob id)


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None, data: bytes = b"") -> bytes:
    git = shutil.which("git")
    if git is None:
        raise LocalAuditError("--staged: git is not installed")
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, *args],
            cwd=cwd,
            input=data,
            capture_output=True,
            timeout=300,
            check=False,
            env=None if env is None else {**os.environ, **env},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise LocalAuditError(f"--staged: git {args[0]}: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise LocalAuditError(f"--staged: git {args[0]}: {message or 'failed'}")
    return done.stdout


def _head(top: Path) -> str | None:
    try:
        return _git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip()
    except LocalAuditError:
        return None  # an unborn branch: the first commit


def _below(path: bytes, prefix: str) -> str | None:
    name = os.fsdecode(path)
    return name[len(prefix) :] if name.startswith(prefix) else None


def _index_entries(top: Path, spec: str, prefix: str) -> Entries:
    """The index's files below the folder (the index git itself names: a hook's GIT_INDEX_FILE)."""
    out: Entries = {}
    for record in _git(top, "ls-files", "--stage", "-z", "--", spec).split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        path = _below(name, prefix)
        if len(fields) == 3 and fields[2] == b"0" and fields[0] != GITLINK.encode() and path:
            out[path] = (fields[0].decode(), fields[1].decode())
    return out


def _tree_entries(top: Path, commit: str, spec: str, prefix: str) -> Entries:
    out: Entries = {}
    for record in _git(top, "ls-tree", "-r", "-z", commit, "--", spec).split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        path = _below(name, prefix)
        if len(fields) == 3 and fields[1] == b"blob" and path:
            out[path] = (fields[0].decode(), fields[2].decode())
    return out


def _reported_renames(top: Path, commit: str, spec: str, prefix: str) -> dict[str, str]:
    """old path -> new path, the renames git sees between `commit` and the index."""
    raw = _git(top, "diff", "--cached", "-M", "--name-status", "-z", commit, "--", spec)
    items = raw.split(b"\0")
    out: dict[str, str] = {}
    i = 0
    while i < len(items) and items[i]:
        status = items[i]
        if status.startswith((b"R", b"C")) and i + 2 < len(items):
            old, new = _below(items[i + 1], prefix), _below(items[i + 2], prefix)
            if status.startswith(b"R") and old and new:
                out[old] = new
            i += 3
        else:
            i += 2
    return out


def _export(top: Path, work: Path, name: str, prefix: str, entries: Entries) -> Path:
    """The files of `entries` written below `work/name` through a temporary index: the folder
    that stands for the audited one."""
    index = work / f"{name}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    listing = b"".join(
        f"{mode} {sha}\t{prefix}{path}".encode("utf-8", "surrogateescape") + b"\0"
        for path, (mode, sha) in sorted(entries.items())
    )
    _git(top, "update-index", "-z", "--index-info", env=env, data=listing)
    _git(top, "checkout-index", "--all", "--force", f"--prefix={work / name}/", env=env)
    folder = work / name / prefix
    folder.mkdir(parents=True, exist_ok=True)
    return folder
