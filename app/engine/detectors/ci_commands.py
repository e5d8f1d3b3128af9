"""What a CI command line does: which gates it is (tests, lint, type checks), and which package
scripts (`npm run ci`, `yarn validate`, `turbo run test`) and repository scripts
(`./scripts/test.sh`) it hands the work to, so that the gates they run can be counted too."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator

_PACKAGE_RUN = r"(npm\s+run(-script)?|yarn(\s+run)?|pnpm(\s+run)?|bun\s+run)"
GATES = {
    "ci-tests": re.compile(
        r"\b(pytest|py\.test|tox|nox|unittest|manage\.py\s+test|django-admin\s+test|"
        r"npm\s+(run\s+)?test|npm\s+t\b|yarn\s+(run\s+)?test|pnpm\s+(run\s+)?test|bun\s+(run\s+)?test|"
        r"jest|vitest|mocha|karma|playwright\s+test|cypress\s+run|"
        r"go\s+test|gotestsum|mvnw?\b.*\b(test|verify|package|install)|gradlew?\b.*\b(test|check|build)|"
        r"cargo\s+(test|nextest)|make\s+([\w-]*test|check)|just\s+[\w-]*test|task\s+[\w-]*test|"
        r"bin/test|rspec|rake\s+test|phpunit|dotnet\s+test|mix\s+test|ctest)\b"
        # pytest's own options: a container entrypoint that runs pytest under another name
        r"|--cov=|--junitxml\b"
    ),
    "ci-lint": re.compile(
        r"\b(ruff|flake8|pylint|black\s+--check|isort\s+(--check|-c)\b|eslint|biome|"
        r"prettier\s+(--check|-c|--list-different|-l)\b|" + _PACKAGE_RUN + r"\s+lint|"
        r"golangci-lint|go\s+vet|staticcheck|checkstyle|spotless|ktlint|detekt|"
        r"pre-commit\s+run|prek\s+run|make\s+lint|just\s+lint|clippy|cargo\s+fmt|rustfmt|"
        r"gofmt|goimports|(go|govendor)\s+fmt|"
        r"rubocop|shellcheck|hadolint|stylelint|phpcs|credo|swiftlint)"
    ),
    "ci-typecheck": re.compile(
        r"\b(mypy|pyright|basedpyright|pytype|tsc\b|vue-tsc|svelte-check|flow\s+check|"
        r"make\s+(typecheck|type-check|types)|" + _PACKAGE_RUN + r"\s+"
        r"(typecheck|type-check|check-types|types|tsc|build)|"
        r"go\s+(build|vet|test)|mvnw?\b|gradlew?\b|javac|kotlinc|cargo\s+(build|check|clippy|test)|"
        r"dotnet\s+build)"
    ),
    # security scanners: code (SAST), dependencies, secrets, images (not a gate DEP011 asks for;
    # DEP020 looks for one)
    "ci-security": re.compile(
        r"\b(codeql|trivy|grype|snyk|semgrep|bandit|gosec|govulncheck|pip-audit|safety\s+(check|scan)|"
        r"(npm|yarn|pnpm|bun)\s+audit|audit-ci|better-npm-audit|osv-scanner|gitleaks|trufflehog|"
        r"detect-secrets|dependency-check|cargo\s+(audit|deny)|brakeman|checkov|tfsec|kics|zizmor|"
        r"stopship\s+check)\b"
    ),
}
# A Maven or Gradle build that runs the plugins bound to its lifecycle (see BUILD_LINT_PLUGINS).
BUILD_RUN = re.compile(
    r"\b(mvnw?|gradlew?)\b.*\b(validate|verify|install|package|deploy|check|build)\b"
)
# Lint plugins of Maven and Gradle builds, run by `mvn verify` / `gradle check` when configured.
BUILD_LINT_PLUGINS = re.compile(
    r"maven-checkstyle-plugin|spring-javaformat|spotless|ktlint|detekt|maven-pmd-plugin|"
    r"spotbugs|errorprone|id\s*[(\s][\"']?(checkstyle|pmd)\b|apply\s+plugin:\s*[\"'](checkstyle|pmd)"
)
# Well-known actions that are themselves gates (`uses: ...`).
USES_GATES = {
    "ci-tests": re.compile(r"cypress-io/github-action"),
    "ci-lint": re.compile(
        r"(golangci/golangci-lint-action|super-linter|ruff-action|pre-commit/action|"
        r"actions-rs/clippy-check|reviewdog/action-eslint)"
    ),
    "ci-typecheck": re.compile(r"(action-mypy|mypy-check)"),
    "ci-security": re.compile(
        r"(github/codeql-action|actions/dependency-review-action|aquasecurity/trivy-action|"
        r"anchore/scan-action|snyk/actions|semgrep/semgrep-action|returntocorp/semgrep-action|"
        r"gitleaks/gitleaks-action|trufflesecurity/trufflehog|google/osv-scanner-action|"
        r"securego/gosec|golang/govulncheck-action|pypa/gh-action-pip-audit|zizmorcore/|"
        r"ossf/scorecard-action|/stopship@)"
    ),
}

# Installing a tool, printing or commenting is not running it (`pip install pytest`).
_NOT_A_RUN = re.compile(
    r"^\s*(#|echo\b|printf\b)|\b((python3?\s+-m\s+)?pip3?|uv\s+pip|pipx|npm|yarn|pnpm|bun|apt(-get)?|"
    r"apk|brew|gem|go|cargo|poetry|conda|mamba|choco|dnf|yum)\s+(install|add|i|ci|get|binstall|"
    r"sync)\b"
)
_SEPARATORS = re.compile(r"&&|\|\||;|\||\n")


def command_pieces(script: str) -> Iterator[str]:
    """The simple commands of a shell script, roughly: lines and `&&`/`||`/`;`/`|` pieces (quotes
    are not respected, which also splits `sh -c "a; b"` into its commands)."""
    for piece in _SEPARATORS.split(script.replace("\\\n", " ")):
        if piece.strip():
            yield piece


def runs_build(scripts: Iterable[str]) -> bool:
    """Whether these scripts run a Maven or Gradle build."""
    return any(
        BUILD_RUN.search(piece) and not _NOT_A_RUN.search(piece)
        for script in scripts
        for piece in command_pieces(script)
    )


def gates_of(scripts: Iterable[str]) -> set[str]:
    """The gate kinds (`ci-tests`, `ci-lint`, `ci-typecheck`, `ci-security`) that these scripts
    run."""
    found: set[str] = set()
    for script in scripts:
        if script.startswith("uses: "):
            found |= {kind for kind, rx in USES_GATES.items() if rx.search(script)}
            continue
        for piece in command_pieces(script):
            if _NOT_A_RUN.search(piece):
                continue
            found |= {kind for kind, rx in GATES.items() if kind not in found and rx.search(piece)}
    return found


# Options of the package managers and task runners that take a value (`--cwd dir`).
_VALUE_OPTIONS = frozenset(
    {"--cwd", "--prefix", "-w", "--workspace", "--filter", "-F", "-C", "--dir", "--scope"}
)
_NPM_ALIASES = {"t": "test", "tst": "test", "test": "test", "start": "start", "stop": "stop"}
_NPM_RUN = frozenset({"run", "run-script", "rum", "urn"})
# Package manager subcommands that are not script names (yarn and pnpm run `yarn <script>`).
_BUILTINS = frozenset(
    {
        *("add", "audit", "bin", "cache", "config", "create", "dedupe", "dlx", "exec", "help"),
        *("import", "info", "init", "install", "i", "link", "list", "login", "logout", "ls"),
        *("node", "outdated", "pack", "patch", "plugin", "prune", "publish", "rebuild", "remove"),
        *("rm", "set", "store", "unlink", "up", "update", "upgrade", "version", "why", "x"),
        "workspaces",
    }
)
_TASK_RUNNERS = frozenset({"turbo", "lerna", "nx", "run-s", "run-p", "npm-run-all"})
_SCRIPT_FILE = re.compile(
    r"^(\.{1,2}/|/)*[\w.@+-]+(/[\w.@+-]+)*\.(sh|bash)$|^\./[\w.@+-]+(/[\w.@+-]+)*$"
)


def _tokens(piece: str) -> list[str]:
    try:
        return shlex.split(piece, comments=False)
    except ValueError:  # a quote the rough split into commands cut in two
        return [token.strip("\"'") for token in piece.split()]


def _positionals(args: list[str]) -> Iterator[str]:
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUE_OPTIONS
        else:
            yield arg


def _package_manager_scripts(tool: str, args: list[str]) -> list[str]:
    words = list(_positionals(args))
    if tool == "yarn" and words[:1] == ["workspace"]:
        words = words[2:]  # yarn workspace <package> <script>
    if tool == "yarn" and words[:1] == ["workspaces"]:
        words = words[words.index("run") :] if "run" in words else []
    if not words:
        return []
    first = words[0]
    if first in _NPM_RUN:
        return words[1:2]
    if first in _NPM_ALIASES:
        return [_NPM_ALIASES[first]]
    if tool in {"yarn", "pnpm"} and first not in _BUILTINS:
        return [first]
    return []


def _task_runner_scripts(tool: str, args: list[str]) -> list[str]:
    if tool == "nx":
        names: list[str] = []
        for i, arg in enumerate(args):
            if arg in {"-t", "--target", "--targets"} and i + 1 < len(args):
                names += args[i + 1].split(",")
            elif arg.startswith(("--target=", "--targets=")):
                names += arg.split("=", 1)[1].split(",")
            elif ":" in arg and not arg.startswith("-"):
                names.append(arg.rsplit(":", 1)[1])  # nx run project:target
        return names
    words = [w for w in _positionals(args) if not w.startswith("--")]
    if tool in {"turbo", "lerna"}:
        return [w for w in words if w not in {"run", "exec"}] if tool == "turbo" else words[1:2]
    return words  # run-s / run-p / npm-run-all take script names (and globs)


def _repository_path(token: str) -> str:
    """What an invoked script path says about where it is in the repository: relative paths as
    they are (`./` dropped); an absolute path is one inside a container (`/app/scripts/lint.sh`),
    where only its name is known."""
    if token.startswith("/"):
        return token.rsplit("/", 1)[-1]
    return re.sub(r"^(\.{1,2}/)+", "", token)


def invocations(script: str) -> tuple[set[str], set[str]]:
    """The package scripts (by name, globs allowed) and the repository script files (paths
    relative to wherever they run, `./` removed) that `script` runs."""
    scripts: set[str] = set()
    files: set[str] = set()
    pending = list(command_pieces(script))
    while pending:
        tokens = _tokens(pending.pop())
        for i, token in enumerate(tokens):
            if " " in token:
                pending.extend(command_pieces(token))  # `bash -c "..."`, `concurrently "..."`
                continue
            name = token.rsplit("/", 1)[-1]
            if name in {"npm", "yarn", "pnpm", "bun"}:
                # not the end: `npm run with:env -- npm run migrate` runs both
                scripts.update(_package_manager_scripts(name, tokens[i + 1 :]))
            elif name in _TASK_RUNNERS:
                scripts.update(_task_runner_scripts(name, tokens[i + 1 :]))
            elif "$" not in token and _SCRIPT_FILE.match(token):
                files.add(_repository_path(token))
    return scripts, files


# Interpreters that run a JavaScript / TypeScript file as a program (`node bundle.cjs`).
_JS_RUNNERS = frozenset({"node", "tsx", "ts-node", "babel-node", "vite-node", "zx", "bun", "deno"})
_JS_FILE = re.compile(r"^[\w./@+-]+\.[cm]?[jt]sx?$")


def programs_run(script: str) -> set[str]:
    """The JavaScript / TypeScript files that `script` runs as programs (`node ./bundle.cjs`,
    `tsx seed.ts`), as written (relative to where the script runs, `./` removed)."""
    found: set[str] = set()
    for piece in command_pieces(script):
        tokens = _tokens(piece)
        for i, token in enumerate(tokens):
            if token.rsplit("/", 1)[-1] not in _JS_RUNNERS:
                continue
            program = next((t for t in tokens[i + 1 :] if _JS_FILE.match(t)), None)
            if program is not None:
                found.add(re.sub(r"^(\./)+", "", program))
    return found
