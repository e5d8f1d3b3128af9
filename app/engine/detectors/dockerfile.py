"""Build tools and dev dependencies left in the image that ships.

A multi-stage build exists to keep compilers and dev dependencies out of the runtime image, yet the
final stage (or a stage it builds on) often still installs `build-essential`, `gcc`, `*-dev`
headers, or runs a plain `npm ci` that pulls devDependencies. Single-stage builds are left to the
`single-stage-build` rule, which already says the whole toolchain ships. Packages removed again in
the shipped stages (`apk del .build-deps`, `apt-get purge --auto-remove`) are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.engine.detectors.container_image import Stage, dockerfile_check, shipped_stages
from app.engine.model import Hit

_BUILD_PACKAGES = frozenset(
    {
        "build-essential",
        "build-base",
        "gcc",
        "g++",
        "gcc-c++",
        "clang",
        "make",
        "cmake",
        "autoconf",
        "automake",
        "libtool",
        "musl-dev",
        "linux-headers",
        "golang",
        "golang-go",
        "maven",
        "gradle",
        "cargo",
        "rustc",
    }
)
_INSTALL = {
    ("apt-get", "install"),
    ("apt", "install"),
    ("apk", "add"),
    ("yum", "install"),
    ("dnf", "install"),
    ("microdnf", "install"),
}
_REMOVE = {
    ("apt-get", "purge"),
    ("apt-get", "remove"),
    ("apt-get", "autoremove"),
    ("apt", "purge"),
    ("apt", "remove"),
    ("apt", "autoremove"),
    ("apk", "del"),
    ("yum", "remove"),
    ("yum", "erase"),
    ("dnf", "remove"),
    ("microdnf", "remove"),
}
# Options whose next word is their value, not a package.
_OPTION_WITH_VALUE = {"-o", "--virtual", "-t", "--repository", "-X", "--enablerepo", "--setopt"}
_COMMAND_SPLIT = re.compile(r"&&|\|\||;|\|")
_ASSIGNMENT = re.compile(r"^\w+=")
_NODE_PROD_FLAGS = {
    "--production",
    "--prod",
    "-P",
    "--omit=dev",
    "--only=prod",
    "--only=production",
}
_DEV_REQUIREMENTS = re.compile(r"(^|[/_.-])(dev|devel|develop|test|tests|testing|lint)([/_.-]|$)")
_PRUNE = re.compile(r"\b(npm|pnpm)\s+prune\b.*(--production|--prod|--omit[= ]dev)")
_NODE_ENV_PRODUCTION = re.compile(r"\bNODE_ENV[= ][\"']?production")
_DEV_EXTRAS = re.compile(r"\[[^\]]*\b(dev|test|tests|lint)\b[^\]]*\]")


@dataclass(frozen=True)
class _Command:
    """One shell command of a RUN instruction: tool, subcommand, positional arguments, flags."""

    tool: str
    sub: str
    arguments: tuple[str, ...]
    flags: frozenset[str]
    env: frozenset[str]  # inline `NAME=value` assignments before the command
    words: tuple[str, ...]

    @property
    def verb(self) -> tuple[str, str]:
        return self.tool, self.sub


def _command(words: list[str], env: frozenset[str]) -> _Command:
    tool = words[0].rsplit("/", 1)[-1]
    positional: list[str] = []
    flags: set[str] = set()
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
        elif word in _OPTION_WITH_VALUE:
            flags.add(word)
            skip = True
        elif word.startswith("-"):
            flags.add(word)
        else:
            positional.append(word.strip("\"'"))
    sub = positional.pop(0) if positional else ""
    return _Command(tool, sub, tuple(positional), frozenset(flags), env, tuple(words))


def _commands(run: str) -> Iterator[_Command]:
    for part in _COMMAND_SPLIT.split(run):
        words = part.split()
        env: set[str] = set()
        while words and (_ASSIGNMENT.match(words[0]) or words[0] == "sudo"):
            if _ASSIGNMENT.match(words[0]):
                env.add(words[0])
            words.pop(0)
        if words and words[0] != "set":
            yield _command(words, frozenset(env))


def _runs(chain: list[Stage]) -> list[tuple[int, str, dict[str, Any]]]:
    """(1-based line, value, item) of each RUN and ENV of the shipped stages, in build order."""
    out = []
    for stage in chain:
        for item in stage.instructions:
            if item["instruction"].upper() in {"RUN", "ENV"}:
                out.append((int(item["startline"]) + 1, str(item["value"]), item))
    return out


def _build_packages(command: _Command) -> tuple[list[str], set[str]]:
    """(build-tool packages installed, apk virtual group names) of an install command."""
    packages = []
    for word in command.arguments:
        name = re.split(r"[=<>~]", word, maxsplit=1)[0]
        if "$" in name:
            continue
        if name in _BUILD_PACKAGES or name.endswith(("-dev", "-devel")):
            packages.append(name)
    groups = set()
    words = list(command.words)
    for i, word in enumerate(words[:-1]):
        if word in {"--virtual", "-t"}:
            groups.add(words[i + 1])
    return packages, groups


def _removes(command: _Command) -> set[str] | None:
    """Package names a removal command removes; None when it removes unnamed ones
    (`apt-get purge --auto-remove` after `apt-mark auto`, `apk del $BUILD_DEPS`)."""
    names = command.arguments
    if command.verb[1] == "autoremove" or not names or any("$" in n for n in names):
        return None
    return {re.split(r"[=<>~]", n, maxsplit=1)[0] for n in names}


def _build_tool_hits(runs: list[tuple[int, str, dict[str, Any]]]) -> Iterator[Hit]:
    installs: list[tuple[int, list[str], set[str]]] = []
    for index, (_, value, item) in enumerate(runs):
        if item["instruction"].upper() != "RUN":
            continue
        for command in _commands(value):
            if command.verb in _INSTALL:
                packages, groups = _build_packages(command)
                if packages:
                    installs.append((index, packages, groups))
    for index, packages, groups in installs:
        remaining = list(packages)
        for _, value, item in runs[index:]:
            if item["instruction"].upper() != "RUN":
                continue
            for command in _commands(value):
                if command.verb not in _REMOVE:
                    continue
                removed = _removes(command)
                if removed is None or removed & groups:
                    remaining = []
                else:
                    remaining = [p for p in remaining if p not in removed]
        if remaining:
            line = runs[index][0]
            shown = ", ".join(remaining[:4]) + (", ..." if len(remaining) > 4 else "")
            yield Hit("", line, f"install {' '.join(sorted(remaining))}", f"installs {shown}")


def _dev_install(command: _Command, node_production: bool) -> str | None:
    """The dev-dependency install this command performs, or None."""
    tool, sub = command.verb
    flags = command.flags
    production = node_production or "NODE_ENV=production" in command.env
    if tool in {"npm", "yarn", "pnpm"}:
        if tool == "npm" and sub not in {"ci", "install", "i"}:
            return None
        if tool in {"yarn", "pnpm"} and sub not in {"", "install", "i"}:
            return None
        if command.arguments or production or flags & _NODE_PROD_FLAGS:
            return None  # named packages, or production-only
        if any(w.startswith("--omit") and "dev" in w for w in flags):
            return None
        return f"{tool} {sub or 'install'}".strip()
    if tool in {"pip", "pip3"} and sub == "install":
        words = list(command.words)
        for i, word in enumerate(words):
            target = words[i + 1] if word in {"-r", "--requirement"} and i + 1 < len(words) else ""
            if target and _DEV_REQUIREMENTS.search(target.rsplit("/", 1)[-1].lower()):
                return f"pip install -r {target}"
            if _DEV_EXTRAS.search(word):
                return f"pip install {word}"
        return None
    if tool == "poetry" and sub == "install":
        text = " ".join(command.words)
        if re.search(r"--(only[= ]main|no-dev|without[= ]\S*dev|only-root)", text):
            return None
        return "poetry install"
    if tool == "uv" and sub == "sync":
        if "--no-dev" in flags or "UV_NO_DEV=1" in command.env:
            return None
        return "uv sync"
    return None


def _dev_dependency_hits(runs: list[tuple[int, str, dict[str, Any]]]) -> Iterator[Hit]:
    # `npm prune --omit=dev` after a full install removes the dev dependencies again.
    last_prune = max(
        (
            i
            for i, (_, value, item) in enumerate(runs)
            if item["instruction"].upper() == "RUN" and _PRUNE.search(value)
        ),
        default=-1,
    )
    node_production = False
    for index, (line, value, item) in enumerate(runs):
        if item["instruction"].upper() == "ENV":
            node_production = node_production or bool(_NODE_ENV_PRODUCTION.search(value))
            continue
        for command in _commands(value):
            found = _dev_install(command, node_production)
            if found and not (command.tool in {"npm", "pnpm"} and index <= last_prune):
                yield Hit("", line, found, f"`{found}` installs dev dependencies")
                break


@dockerfile_check("dockerfile_build_tools_in_final_image")
def _build_tools_in_final_image(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    """Build-tool packages and dev-dependency installs in the stages of a multi-stage build that
    end up in the final image."""
    if len(parsed) < 2:
        return
    runs = _runs(shipped_stages(parsed, by_name))
    yield from _build_tool_hits(runs)
    yield from _dev_dependency_hits(runs)
