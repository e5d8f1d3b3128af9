"""What a path is: its language (file kind) and its role (test, migration, CLI, lock file...).

Everything the analysis of a file may depend on besides its bytes is derived here from the path,
so that `(blob id, path kind)` is a sound cache key.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache

_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".kt": "kotlin",
    ".sql": "sql",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".properties": "properties",
    ".xml": "xml",
    ".gradle": "gradle",
    ".kts": "gradle",
    ".sh": "shell",
    ".tf": "terraform",
}

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "pnpm-lock.yaml",
        "yarn.lock",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "bun.lockb",
        "gradle.lockfile",
    }
)

_TEST_DIRS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "__tests__",
        "__mocks__",
        "spec",
        "specs",
        "fixtures",
        "fixture",
        "testdata",
        "e2e",
        "cypress",
        "examples",
        "example",
        "samples",
        "sample",
        "docs",
        "doc",
        "benchmarks",
        "benchmark",
        "testutils",
        "conftest",
        "acceptance",
        ".semgrep",  # semgrep rule tests: code written to trip the rules
    }
)
# `api_tests/`, `integration-tests/`, `app-e2e/`: a test folder named after what it tests
_TEST_DIR_SUFFIX = re.compile(r"[_-](tests|specs|e2e)$")
_TEST_FILE = re.compile(
    r"(^test_.*\.py$|.*_test\.py$|^conftest\.py$|.*_test\.go$|.*\.(test|spec)\.[cm]?[jt]sx?$"
    r"|.*Tests?\.java$|.*IT\.java$"
    # test modules and configuration beside the real ones: Django's `tests.py`, `settings/test.py`,
    # `configuration_testing.py`
    r"|^tests?\.py$|.*_testing\.\w+$"
    # templates to copy, not what runs: `.env.example`, `config.sample.yml`, `settings_example.py`
    r"|.*\.(example|sample|dist)$|.*[._-](example|sample)\.\w+$|^(example|sample)\.\w+$)"
)
# Prose (role `documentation`): a secret or a host in it is an example for the reader.
_DOCUMENTATION_FILE = re.compile(r".*\.(md|mdx|markdown|rst|adoc)$", re.IGNORECASE)
_CLI_FILE = re.compile(
    r"(^cli\.py$|^__main__\.py$|^manage\.py$|^setup\.py$|^noxfile\.py$|^fabfile\.py$)"
)
_CLI_DIRS = frozenset({"scripts", "script", "bin", "tools", "commands", "management", "cmd"})
_MIGRATION_DIRS = frozenset(
    {"migrations", "migration", "alembic", "versions", "migrate", "changelog"}  # Liquibase
)


_COMPOSE_FILE = re.compile(r"(docker-)?compose([.-][\w.-]+)?\.ya?ml")
_REQUIREMENTS_FILE = re.compile(r"requirements([.-][\w.-]+)?\.(txt|in)")


@lru_cache(maxsize=65536)
def language_of(path: str) -> str | None:
    """The file kind the rules are selected by (`python`, `dockerfile`, `compose`, ...), or None."""
    parts = path.split("/")
    name = parts[-1]
    lower = name.lower()
    dot = lower.rfind(".")
    suffix = lower[dot:] if dot > 0 else ""
    if lower == "dockerfile" or lower.endswith(".dockerfile"):
        return "dockerfile"
    if lower.startswith("dockerfile.") and suffix not in _BY_SUFFIX:
        return "dockerfile"  # Dockerfile.prod, not dockerfile.py
    if lower == "containerfile":
        return "dockerfile"
    if _COMPOSE_FILE.fullmatch(lower):
        return "compose"
    if (
        len(parts) >= 3
        and parts[0] == ".github"
        and parts[1] == "workflows"
        and lower.endswith((".yml", ".yaml"))
    ):
        return "workflow"
    if lower == ".env" or lower.startswith(".env."):
        return "env"
    if lower in {".gitignore", ".dockerignore", ".npmrc"}:
        return lower[1:]
    if _REQUIREMENTS_FILE.fullmatch(lower) or lower in {
        "pipfile",
        "go.mod",
    }:
        return "requirements"
    return _BY_SUFFIX.get(suffix)


@lru_cache(maxsize=65536)
def roles_of(path: str) -> frozenset[str]:
    """The roles of a path: `test`, `migration`, `cli`, `lockfile`, `vendored`, `generated`, and
    for scripts `browser` / `server` (where the path says the code runs)."""
    folder, _, name = path.rpartition("/")
    # Folders repeat across a tree: their roles are worked out once per folder.
    roles = _folder_roles(folder) | _name_roles(name)
    if name.endswith(_SCRIPT_SUFFIXES):
        roles |= _script_runtime(folder, name)
    return roles


@lru_cache(maxsize=16384)
def _folder_roles(folder: str) -> frozenset[str]:
    pieces = folder.split("/") if folder else []
    dirs = {d.lower() for d in pieces}
    roles: set[str] = set()
    # Under a JVM-style source root (`src/main/java/com/example/...`) folders are package names:
    # `com.example` is production code, not an example.
    parts = [d.lower() for d in pieces]
    source_root = next(
        (i for i in range(len(parts) - 1) if parts[i] == "src" and parts[i + 1] == "main"), None
    )
    test_dirs = set(parts[:source_root]) if source_root is not None else dirs
    if test_dirs & _TEST_DIRS or any(_TEST_DIR_SUFFIX.search(d) for d in test_dirs):
        roles.add("test")
    if dirs & _CLI_DIRS:
        roles.add("cli")
    if dirs & _MIGRATION_DIRS:
        roles.add("migration")
    return frozenset(roles)


# A numbered SQL migration file (`0001_init.sql`, `2_add.up.sql`): the name alone decides.
_NUMBERED_SQL = re.compile(r"\d+[_-][\w.-]*\.(up|down)?\.?sql$")


def _name_roles(name: str) -> frozenset[str]:
    roles: set[str] = set()
    if name in LOCK_FILES:
        roles.add("lockfile")
    if _TEST_FILE.match(name):
        roles.add("test")
    if _CLI_FILE.match(name):
        roles.add("cli")
    if _NUMBERED_SQL.match(name):
        roles.add("migration")
    if _DOCUMENTATION_FILE.match(name):
        roles.add("documentation")
    return frozenset(roles)


# Where a JavaScript / TypeScript file runs, as far as its path tells. `browser`: under a folder
# that by convention holds a front-end bundle (a SPA's `frontend/`, Django's `static/`, a `client/`
# near the top of the tree: deeper, `jobs/client/` is more often a server's client of something).
# `server`: under a server folder, or named as server code by its framework (Remix
# `*.server.ts`, SvelteKit `+page.server.ts`, Next.js `route.ts` and `pages/api/`, a root `api/`
# of serverless functions). Server wins: `client/server/render.js` is server code.
_SCRIPT_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
_BROWSER_DIRS = frozenset(
    {
        "frontend",
        "front-end",
        "webapp",
        "web-app",
        "spa",
        "static",
        "project-static",
        "public",
        "assets",
        "client-only",
    }
)
_SERVER_DIRS = frozenset(
    {"server", "servers", "server-only", "backend", "back-end", "functions", "lambda", "lambdas"}
)
_SERVER_NAME = re.compile(r"(.*\.server\.|(server|route|middleware)\.)[cm]?[jt]sx?$")


def _script_runtime(folder: str, name: str) -> frozenset[str]:
    if _SERVER_NAME.match(name):
        return frozenset({"server"})
    return _folder_runtime(folder)


@lru_cache(maxsize=16384)
def _folder_runtime(folder: str) -> frozenset[str]:
    parts = [d.lower() for d in folder.split("/")] if folder else []
    api_routes = parts[:1] == ["api"] or any(
        parts[i] in ("pages", "app") and parts[i + 1] == "api" for i in range(len(parts) - 1)
    )
    if api_routes or _SERVER_DIRS.intersection(parts):
        return frozenset({"server"})
    if _BROWSER_DIRS.intersection(parts) or "client" in parts[:2]:
        return frozenset({"browser"})
    return frozenset()


def matches_any(path: str, globs: list[str] | tuple[str, ...]) -> bool:
    """True when `path` matches one of `globs` (fnmatch; `**/` also matches the top level;
    `dir/**` matches everything below dir)."""
    if not globs:
        return False
    return glob_regex(tuple(globs)).match(path) is not None


def glob_literals(globs: tuple[str, ...]) -> tuple[str, ...] | None:
    """A literal part of each glob (its longest run without wildcards): a path that `matches_any`
    matches contains at least one of them. None when a glob has none (or has a `[set]`)."""
    out = []
    for glob in globs:
        # `**/x` also matches `x` at the top, and `x/**` matches `x` itself (see glob_regex)
        core = glob.removeprefix("**/").removesuffix("/**")
        if "[" in core:
            return None
        longest = max(re.split(r"[*?]+", core), key=len)
        if not longest:
            return None
        out.append(longest)
    return tuple(out)


@lru_cache(maxsize=512)
def glob_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching what `matches_any` matches for `globs`."""
    parts: list[str] = []
    for glob in globs:
        parts.append(fnmatch.translate(glob))
        if glob.startswith("**/"):
            parts.append(fnmatch.translate(glob[3:]))
        if glob.endswith("/**"):
            parts.append(re.escape(glob[:-3]) + r"(?:/.*)?\Z")
    return re.compile("|".join(f"(?s:{p})" for p in parts))
