"""What package.json scripts and shell scripts run, and the gates CI runs through them.

CI often hands its work to scripts: `npm run ci` (whose script runs `turbo run test:e2e`, which
runs each package's `test:e2e`, which runs `playwright test`), `yarn validate` (`tsc` two scripts
down), `./scripts/test.sh`. Each script file says what it runs as facts; the graph built from
them is followed from what the CI commands invoke.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoView, file_detector
from app.engine.detectors.ci_commands import (
    BUILD_LINT_PLUGINS,
    gates_of,
    invocations,
    programs_run,
)
from app.engine.model import Fact

# Package scripts named for the gate they are (`test`, `test:e2e`, `e2e`, `lint:ci`, `typecheck`).
_GATE_NAMES = {
    "ci-tests": re.compile(r"^(test|tests|e2e|spec)([:_-][\w:-]*)?$|^[\w-]+[:_-](test|tests|e2e)$"),
    "ci-lint": re.compile(r"^lint([:_-][\w:-]*)?$|^[\w-]+[:_-]lint$"),
    "ci-typecheck": re.compile(r"^(typecheck|type-check|check-types|types|tsc)([:_-][\w:-]*)?$"),
}
_BUILD_FILES = ("pom.xml", "build.gradle", "build.gradle.kts")
_SHELLS = (b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env sh", b"#!/usr/bin/env bash")


@file_detector("ci_scripts")
def ci_scripts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """What package.json scripts and shell scripts run, for `ci_gates` to follow from CI."""
    if ctx.path == "package.json" or ctx.path.endswith("/package.json"):
        yield from _package_script_facts(ctx.path, ctx.text)
    elif ctx.path.endswith(_BUILD_FILES):
        if BUILD_LINT_PLUGINS.search(ctx.text):
            yield Fact("build-lint-plugin")
    elif ctx.path.endswith((".sh", ".bash")) or ctx.data.startswith(_SHELLS):
        # a shell script is its own node in the graph below: "" stands for the file itself
        yield from _runs_facts("script", "", [ctx.text])


def _runs_facts(prefix: str, name: str, commands: list[str]) -> Iterable[Fact]:
    """`<prefix>-gate`, `<prefix>-runs` and `<prefix>-runs-file` facts of one script `name`."""
    for kind in sorted(gates_of(commands)):
        yield Fact(f"{prefix}-gate", f"{name}\t{kind}")
    callees, files = invocations("\n".join(commands))
    for callee in sorted(callees):
        yield Fact(f"{prefix}-runs", f"{name}\t{callee}")
    for path in sorted(files):
        yield Fact(f"{prefix}-runs-file", f"{name}\t{path}")


def _package_script_facts(path: str, text: str) -> Iterable[Fact]:
    try:
        manifest = json.loads(text)
    except ValueError:
        return
    if not isinstance(manifest, dict):
        return
    scripts = manifest.get("scripts")
    scripts = dict(scripts) if isinstance(scripts, dict) else {}
    prisma = manifest.get("prisma")
    if isinstance(prisma, dict) and isinstance(prisma.get("seed"), str):
        scripts["prisma.seed"] = prisma["seed"]  # what `prisma db seed` runs
    folder = posixpath.dirname(path)
    for name, command in scripts.items():
        if isinstance(command, str):
            yield from _runs_facts("package-script", name, [command])
            for program in programs_run(command):
                # the path in the repository: package scripts run in the package's folder
                program_path = posixpath.normpath(posixpath.join(folder, program))
                yield Fact("package-script-runs-program", program_path)


class _ScriptGraph:
    """Package scripts (by name, merged across the repository's package.json files) and script
    files (by path), what each runs directly, and what each hands on to."""

    def __init__(self, view: RepoView) -> None:
        self.gates: dict[str, set[str]] = {}
        self.calls: dict[str, set[str]] = {}
        self.files: dict[str, set[str]] = {}
        self.script_names: set[str] = set()
        self.paths = sorted(
            {
                path
                for kind in ("gate", "runs", "runs-file")
                for path, _ in view.where(f"script-{kind}")
            }
        )
        for prefix in ("package-script", "script"):
            for path, fact in view.where(f"{prefix}-gate"):
                self._add(self.gates, prefix, path, fact)
            for path, fact in view.where(f"{prefix}-runs"):
                self._add(self.calls, prefix, path, fact)
            for path, fact in view.where(f"{prefix}-runs-file"):
                self._add(self.files, prefix, path, fact)

    def _add(self, table: dict[str, set[str]], prefix: str, path: str, fact: Fact) -> None:
        name, _, target = fact.value.partition("\t")
        node = f"npm:{name}" if prefix == "package-script" else f"file:{path}"
        if prefix == "package-script":
            self.script_names.add(name)
        table.setdefault(node, set()).add(target)

    def script_nodes(self, pattern: str) -> list[str]:
        """The package scripts `npm run <pattern>` runs (`validate:*` globs too), with the
        `pre`/`post` scripts npm runs around them."""
        names = fnmatch.filter(self.script_names, pattern) if "*" in pattern else [pattern]
        names += [f"{hook}{name}" for name in list(names) for hook in ("pre", "post")]
        return [f"npm:{name}" for name in names if name in self.script_names]

    def file_nodes(self, invoked: str) -> list[str]:
        """The script files an invoked path names (relative to wherever the command ran)."""
        return [f"file:{p}" for p in self.paths if p == invoked or p.endswith("/" + invoked)]

    def gates_from(self, scripts: Iterable[str], files: Iterable[str]) -> set[str]:
        gates: set[str] = set()
        pending: list[str] = []

        def run_scripts(patterns: Iterable[str]) -> None:
            for pattern in patterns:
                # a task named for its gate (`turbo run test:e2e`) is one even where the
                # package.json defining it is not read (a package under e2e/ is test code)
                gates.update(kind for kind, rx in _GATE_NAMES.items() if rx.match(pattern))
                pending.extend(self.script_nodes(pattern))

        run_scripts(scripts)
        pending += [n for f in files for n in self.file_nodes(f)]
        seen: set[str] = set()
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            gates |= self.gates.get(node, set())
            run_scripts(self.calls.get(node, ()))
            pending += [n for f in self.files.get(node, ()) for n in self.file_nodes(f)]
        return gates


def gates_run_through_scripts(view: RepoView) -> set[str]:
    """The gates run by the package scripts and script files that CI invokes, followed through
    scripts that run other scripts (`"ci": "turbo run test"`, `"test": "run-s types jest"`), and
    the lint plugins of the Maven or Gradle build CI runs."""
    gates = set()
    if view.has("ci-runs-build") and view.has("build-lint-plugin"):
        gates.add("ci-lint")  # `mvn verify` runs the checkstyle plugin the pom binds
    if not view.has("ci-runs-package-script") and not view.has("ci-runs-file"):
        return gates
    return gates | _ScriptGraph(view).gates_from(
        [f.value for _, f in view.where("ci-runs-package-script")],
        [f.value for _, f in view.where("ci-runs-file")],
    )
