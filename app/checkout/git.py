"""The few git questions the CLI asks about a local checkout (read-only, fixed argv, no shell)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from app.engine.foreign_suppressions import parse_foreign_suppressions
from app.engine.model import FileResult
from app.engine.release import MAX_WALK, NO_BASELINE, ReleaseBaseline, release_tag
from app.engine.suppressions import parse_suppressions

MAX_BASE_FILES = 5000  # files of a pull request whose base version is read for suppressions


class GitError(RuntimeError):
    pass


def _git(root: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed")
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, *args], cwd=root, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(str(exc)) from exc
    if done.returncode != 0:
        raise GitError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def changed_since(root: Path, ref: str) -> set[str]:
    """Paths below `root` (relative to it) changed since `ref`, including untracked files."""
    if ref.startswith("-"):
        raise GitError(f"not a git ref: {ref!r}")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(f"--changed-since: {ref!r} is not a commit in {root}") from None
    diff = _git(root, "diff", "--name-only", "--relative", "--no-renames", ref, "--", ".")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".")
    return {line for line in (diff + untracked).splitlines() if line}


def repository_name(root: Path) -> str:
    """`owner/name` from the origin remote when there is one, else the folder's name."""
    return repository_name_later(root)()


def repository_name_later(root: Path) -> Callable[[], str]:
    """`repository_name`, asked of git now and answered when called: git runs meanwhile."""
    git = shutil.which("git")
    if git is None:
        return lambda: root.resolve().name
    try:
        asked = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [git, "config", "--get", "remote.origin.url"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError:
        return lambda: root.resolve().name

    def answer() -> str:
        try:
            out, _ = asked.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            asked.kill()
            asked.communicate()
            return root.resolve().name
        if asked.returncode != 0:
            return root.resolve().name
        return _name_from_url(out.strip(), root)

    return answer


def _name_from_url(url: str, root: Path) -> str:
    tail = url.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
    return "/".join(tail[-2:]) if len(tail) >= 2 else root.resolve().name


def release_baseline(
    root: Path, ref: str | None, source: str, globs: tuple[str, ...]
) -> ReleaseBaseline:
    """The release the checkout builds on and the files changed since it: `ref` when given
    (`source` says where it came from), else the release tag `release_tag` chooses from the
    history (git log order, as GitHub's API lists commits). No git, no history, no tag: none."""
    if ref is not None:
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except GitError:
            raise GitError(f"{source}: {ref!r} is not a commit in {root}") from None
        return ReleaseBaseline(ref, source, frozenset(changed_since(root, ref)))
    try:
        listing = _git(
            root,
            "for-each-ref",
            "--format=%(objectname) %(*objectname) %(refname:strip=2)",
            "refs/tags",
        )
        head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
        walk = _git(root, "rev-list", f"--max-count={MAX_WALK + 1}", "HEAD").split()
    except GitError:
        return NO_BASELINE
    tags: dict[str, list[str]] = {}
    for line in listing.splitlines():
        obj, peeled, name = ([*line.split(" ", 2), "", ""])[:3]
        commit = peeled or obj  # an annotated tag points at a tag object: its commit is peeled
        if commit != head:  # the judged commit's own tag is the release being made
            tags.setdefault(commit, []).append(name)
    found = release_tag(tags, walk, globs)
    if found is None:
        return NO_BASELINE
    name, sha = found
    return ReleaseBaseline(name, "tag", frozenset(changed_since(root, sha)))


def suppressions_at(root: Path, sha: str, paths: set[str]) -> dict[str, FileResult]:
    """The inline suppressions (ours and other tools') of `paths` (relative to `root`) as they
    are at commit `sha`: a pull request's base, whose suppressions alone are trusted. A path the
    base does not have is left out; more than MAX_BASE_FILES paths: none read (none trusted)."""
    git = shutil.which("git")
    if git is None or len(paths) > MAX_BASE_FILES:
        return {}
    ordered = sorted(paths)
    request = "".join(f"{sha}:./{p}\n" for p in ordered).encode()
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, "cat-file", "--batch"], cwd=root, input=request, capture_output=True,
            timeout=120, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    out, at, found = done.stdout, 0, {}
    for path in ordered:
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].split()
        at = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            continue
        size = int(header[2])
        text = out[at : at + size].decode("utf-8", "replace")
        at += size + 1
        if header[1] == b"blob":
            suppressions = parse_suppressions(text) + parse_foreign_suppressions(text)
            found[path] = FileResult(suppressions=suppressions)
    return found


def root_prefix(root: Path) -> str:
    """Where `root` lies in its git repository (`services/api/`), "" at the top or outside git."""
    try:
        return _git(root, "rev-parse", "--show-prefix").strip()
    except GitError:
        return ""
