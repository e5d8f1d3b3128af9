"""Pinned dependencies read from lock files: path and text in, (ecosystem, name, version, line) out.

Pure: the caller reads the files (within MAX_LOCK_FILE_BYTES) and asks OSV about what this returns.
Ecosystems are OSV's names (`PyPI`, `npm`, `Go`, `Maven`). A file that cannot be parsed yields
nothing and a `LockFileError` the caller reports; it never guesses at a version.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from app.engine import yaml_safe
from app.engine.paths import roles_of

MAX_LOCK_FILE_BYTES = 16 * 1024 * 1024
_REQUIREMENTS = re.compile(r"^requirements[\w.-]*\.txt$")


class LockFileError(ValueError):
    """A lock file that could not be read: str() says which and why."""


@dataclass(frozen=True)
class LockedPackage:
    """One pinned dependency; `line` (1-based) is where the lock file names it, when known."""

    ecosystem: str
    name: str
    version: str
    line: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ecosystem, self.name, self.version)


def is_lock_file(path: str) -> bool:
    """Whether `path` is a lock file this module reads (outside tests, fixtures and vendored
    code: a fixture's pins are not what ships)."""
    if _reader(PurePosixPath(path).name) is None:
        return False
    if {"node_modules", "vendor", "third_party"} & set(PurePosixPath(path).parts):
        return False
    return not roles_of(path) & {"test", "vendored", "generated"}


def locked_packages(path: str, text: str) -> list[LockedPackage]:
    """The pinned packages of the lock file at `path`, deduplicated, in file order."""
    reader = _reader(PurePosixPath(path).name)
    if reader is None:
        return []
    if len(text) > MAX_LOCK_FILE_BYTES:
        raise LockFileError(f"{path}: larger than {MAX_LOCK_FILE_BYTES // (1024 * 1024)} MiB")
    seen: set[tuple[str, str, str]] = set()
    out: list[LockedPackage] = []
    try:
        for package in reader(text):
            if package.version and package.key not in seen:
                seen.add(package.key)
                out.append(package)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise LockFileError(f"{path}: not a lock file stopship can read ({exc})") from None
    return out


def _reader(name: str) -> Callable[[str], Iterator[LockedPackage]] | None:
    if _REQUIREMENTS.match(name):
        return _requirements
    return _READERS.get(name)


class _Lines:
    """Finds the line of each entry by searching forward for its text (parsers of JSON and TOML
    give no positions); entries come in file order, so the search resumes where it stopped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0

    def find(self, *needles: str) -> int | None:
        for needle in needles:
            at = self.text.find(needle, self.offset)
            if at >= 0:
                self.offset = at + len(needle)
                return self.text.count("\n", 0, at) + 1
        return None


def _requirements(text: str) -> Iterator[LockedPackage]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue  # a URL, a path or a pip option: nothing pinned by name
        pins = [s for s in requirement.specifier if s.operator in ("==", "===")]
        if len(pins) == 1 and "*" not in pins[0].version:
            name = canonicalize_name(requirement.name)
            yield LockedPackage("PyPI", name, pins[0].version, number)


def _toml_packages(text: str) -> Iterator[LockedPackage]:
    """poetry.lock and uv.lock: `[[package]]` tables with a name and a version."""
    data = tomllib.loads(text)
    lines = _Lines(text)
    for package in data.get("package", []):
        name, version = package.get("name"), package.get("version")
        source = package.get("source")
        local = isinstance(source, dict) and bool(
            {"editable", "virtual", "directory", "path"} & set(source)
        )
        if isinstance(source, dict) and source.get("type") in ("directory", "file", "git"):
            local = True  # poetry's path and git dependencies are not on PyPI
        if not isinstance(name, str) or not isinstance(version, str) or local:
            continue
        line = lines.find(f'name = "{name}"')
        yield LockedPackage("PyPI", canonicalize_name(name), version, line)


def _pipfile_lock(text: str) -> Iterator[LockedPackage]:
    data = json.loads(text)
    lines = _Lines(text)
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items():
            version = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                line = lines.find(f'"{name}": {{', f'"{name}":')
                yield LockedPackage("PyPI", canonicalize_name(name), version[2:], line)


def _package_lock(text: str) -> Iterator[LockedPackage]:
    """package-lock.json and npm-shrinkwrap.json, v1 (`dependencies`) to v3 (`packages`)."""
    data = json.loads(text)
    lines = _Lines(text)
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or not isinstance(entry, dict) or entry.get("link"):
                continue
            name = entry.get("name") or key.rpartition("node_modules/")[2]
            version = entry.get("version")
            if isinstance(version, str) and "node_modules/" in key:
                yield LockedPackage("npm", name, version, lines.find(f'"{key}": {{', f'"{key}"'))
        return
    yield from _npm_v1(data.get("dependencies") or {}, lines)


def _npm_v1(dependencies: dict[str, Any], lines: _Lines) -> Iterator[LockedPackage]:
    for name, entry in dependencies.items():
        if not isinstance(entry, dict):
            continue
        version = entry.get("version")
        line = lines.find(f'"{name}": {{', f'"{name}"')
        if isinstance(version, str) and not version.startswith(("file:", "git", "http", "link:")):
            yield LockedPackage("npm", name, version, line)
        yield from _npm_v1(entry.get("dependencies") or {}, lines)


# `/name/1.2.3`, `/@scope/name/1.2.3` (v5); `/name@1.2.3`, `name@1.2.3(peer@1)` (v6, v9)
_PNPM_KEY = re.compile(r"^/?((?:@[^/@]+/)?[^/@(]+)[/@]([0-9][^/(_\s]*)")


def _pnpm_lock(text: str) -> Iterator[LockedPackage]:
    data = yaml_safe.load(text)
    lines = _Lines(text)
    packages = data.get("packages") if isinstance(data, dict) else None
    for key in packages or {}:
        match = _PNPM_KEY.match(str(key).strip("'\""))
        if match:
            line = lines.find(f"\n  {key}:", f"\n  '{key}':", f'\n  "{key}":')
            yield LockedPackage("npm", match[1], match[2], line + 1 if line else None)


_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:", "patch:", "git", "http", "exec:")


def _yarn_lock(text: str) -> Iterator[LockedPackage]:
    """yarn.lock, v1 (its own format) and berry (YAML): a header of descriptors, then an
    indented `version`. Read by lines, which both formats share, for the lines."""
    name: str | None = None
    header = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            name, header = _yarn_name(line), number
            continue
        field = line.strip()
        if name and line.startswith(("  version ", "  version:")):
            version = field.removeprefix("version").lstrip(": ").strip().strip("\"'")
            if version and version != "0.0.0-use.local":
                yield LockedPackage("npm", name, version, header)
            name = None


def _yarn_name(header: str) -> str | None:
    descriptor = header.rstrip().rstrip(":").split(",")[0].strip().strip("\"'")
    if descriptor == "__metadata" or "@" not in descriptor[1:]:
        return None
    name, _, spec = descriptor.partition("@") if not descriptor.startswith("@") else (
        "@" + descriptor[1:].partition("@")[0],
        "@",
        descriptor[1:].partition("@")[2],
    )
    if spec.startswith(_LOCAL_PROTOCOLS) or "@patch:" in descriptor:
        return None
    return name


_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v[^\s]+)")


def _go_mod(text: str) -> Iterator[LockedPackage]:
    """go.mod's requirements (the versions the build selects; go.sum also lists versions minimal
    version selection passed over). A `replace` is not followed."""
    in_block = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        if line.startswith("require ("):
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        if in_block or line.startswith("require "):
            match = _GO_REQUIRE.match(line)
            if match:
                yield LockedPackage("Go", match[1], match[2].removeprefix("v"), number)


def _gradle_lockfile(text: str) -> Iterator[LockedPackage]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coordinates = line.split("=", 1)[0].split(":")
        if len(coordinates) == 3:
            group, artifact, version = coordinates
            yield LockedPackage("Maven", f"{group}:{artifact}", version, number)


_READERS: dict[str, Callable[[str], Iterator[LockedPackage]]] = {
    "poetry.lock": _toml_packages,
    "uv.lock": _toml_packages,
    "Pipfile.lock": _pipfile_lock,
    "package-lock.json": _package_lock,
    "npm-shrinkwrap.json": _package_lock,
    "pnpm-lock.yaml": _pnpm_lock,
    "yarn.lock": _yarn_lock,
    "go.mod": _go_mod,
    "gradle.lockfile": _gradle_lockfile,
}
