"""Repository-level security checks: committed secret files, missing lock files, and `"*"`
dependencies that name the packages of the repository's own workspace."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from app.engine.detectors import RepoHit, RepoView, hit_resolver, repo_detector
from app.engine.model import Hit
from app.engine.paths import roles_of

_SECRET_FILE = re.compile(
    r"(^|/)(\.env(\.(local|prod|production|staging|dev|development))?|\.npmrc|\.pypirc|"
    r"id_rsa|id_ed25519|credentials\.json|service-account[\w-]*\.json|[\w-]+\.(pem|p12|pfx|key))$"
)
_NODE_LOCKS = {
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lockb",
    "bun.lock",
}


@repo_detector("env_file_exposure")
def env_file_exposure(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    # an .npmrc holds settings (`engine-strict=true`) as often as a token: only a token counts
    npmrc_tokens = {p for p, _ in view.where("npmrc-credentials")}
    committed = [
        p
        for p in view.paths
        if _SECRET_FILE.search(p)
        and "test" not in roles_of(p)
        and (posixpath.basename(p) != ".npmrc" or p in npmrc_tokens)
    ]
    for path in committed:
        yield RepoHit(path=path, text=path, detail=f"{path} is in the repository")
    if committed or not view.has("application-code"):
        return
    ignores = [path for path, _ in view.where("gitignore")]
    covering = {path for path, _ in view.where("gitignore-covers-env")}
    if ".gitignore" not in ignores:
        yield RepoHit(
            text="no .gitignore", detail="there is no .gitignore, so `.env` is not ignored"
        )
    elif ".gitignore" not in covering:
        yield RepoHit(path=".gitignore", text=".gitignore", detail="`.env` is not in .gitignore")


@repo_detector("missing_lock_file")
def missing_lock_file(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    locks = {posixpath.dirname(p) for p in view.paths if posixpath.basename(p) in _NODE_LOCKS}
    for path, _ in view.where("npm-dependencies"):
        folder = posixpath.dirname(path)
        ancestors = {folder}
        while folder:
            folder = posixpath.dirname(folder)
            ancestors.add(folder)
        if not ancestors & locks:
            yield RepoHit(path=path, text=path, detail=f"no lock file next to {path}")


# Workspace configurations other than package.json's `workspaces` (pnpm, lerna).
_WORKSPACE_FILES = frozenset({"pnpm-workspace.yaml", "lerna.json"})


@hit_resolver("unpinned_dependencies")
def workspace_dependencies(path: str, hit: Hit, view: RepoView) -> bool:
    """In an npm / yarn / pnpm workspace a dependency on one of the workspace's own packages is
    linked from the repository (`"@acme/lib": "*"`), never installed from the registry: an
    unpinned-dependency hit naming only such packages is no finding."""
    if not path.endswith("package.json"):
        return False
    workspace = view.has("npm-workspaces") or any(
        posixpath.basename(p) in _WORKSPACE_FILES for p in view.paths
    )
    if not workspace:
        return False
    own = {fact.value for _, fact in view.where("npm-package")}
    return all(name in own for name in hit.text.split(","))
