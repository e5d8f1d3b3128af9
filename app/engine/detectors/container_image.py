"""Dockerfile checks, multi-stage aware, on dockerfile-parse's structure.

Only the final stage ships: its USER (or the one it inherits from the stage it builds on) decides
whether the container runs as root, and an image with no USER at all runs as root (hadolint only
reports an explicit `USER root`). `FROM ${VAR}` is resolved from ARG defaults. dockerfile-parse's
line numbers are 0-based.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dockerfile_parse import DockerfileParser

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.detectors.secret_values import is_placeholder
from app.engine.model import Fact, Hit, ParseProblem

_VAR = re.compile(r"\$\{?(\w+)\}?")
_BUILD_STEP = re.compile(
    r"\b(pip3?\s+install|poetry\s+install|uv\s+(sync|pip)|npm\s+(ci|install)|yarn(\s+install)?\b|"
    r"pnpm\s+install|go\s+build|mvn\b|gradle\b|\./gradlew|\./mvnw|cargo\s+build|dotnet\s+publish|"
    r"gcc\b|make\b)"
)
# `SECRET_KEY` (Django, Flask), `SECRET_KEY_BASE` (Rails) and `*_PASS` (`RABBITMQ_DEFAULT_PASS`)
# are as common as `*_PASSWORD`; `_PASS`/`_PWD` need the underscore so `BYPASS` is not one.
SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|(^|_)PASS|(^|_)PWD|SECRET|SECRET_?KEY(_BASE)?|TOKEN|API_?KEY|ACCESS_?KEY"
    r"|PRIVATE_?KEY|CREDENTIALS?)$",
    re.I,
)


@dataclass
class Stage:
    image: str
    name: str | None
    line: int
    user: str | None = None
    user_line: int | None = None
    healthcheck: bool = False
    instructions: list[dict[str, Any]] = field(default_factory=list)


def _resolve(value: str, args: dict[str, str]) -> str:
    return _VAR.sub(lambda m: args.get(m.group(1), m.group(0)), value)


def stages(ctx: FileContext) -> list[Stage] | str:
    """The build stages, or the parser's error message (parsed once per file content)."""
    return _stages(ctx.data)


@lru_cache(maxsize=8)
def _stages(data: bytes) -> list[Stage] | str:
    try:
        parser = DockerfileParser(fileobj=io.BytesIO(data))
        structure = parser.structure
    except Exception as exc:  # noqa: BLE001 (dockerfile-parse raises bare exceptions)
        return str(exc)[:200]
    args: dict[str, str] = {}
    result: list[Stage] = []
    for item in structure:
        instruction = item["instruction"].upper()
        value = item["value"].strip()
        line = int(item["startline"]) + 1
        if instruction == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            args.setdefault(name.strip(), default.strip().strip("\"'"))
        if instruction == "FROM":
            parts = [p for p in value.split() if not p.startswith("--")]
            image = _resolve(parts[0], args) if parts else ""
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            result.append(Stage(image=image, name=name, line=line))
            continue
        if not result:
            continue
        stage = result[-1]
        stage.instructions.append(item)
        if instruction == "USER":
            stage.user, stage.user_line = _resolve(value, args), line
        elif instruction == "HEALTHCHECK" and not value.upper().startswith("NONE"):
            stage.healthcheck = True
    return result


def _parent(stage: Stage, by_name: dict[str, Stage]) -> Stage | None:
    return by_name.get(stage.image.lower())


def shipped_stages(parsed: list[Stage], by_name: dict[str, Stage]) -> list[Stage]:
    """The final stage and the stages it is built `FROM` (by name), base first."""
    chain: list[Stage] = []
    stage: Stage | None = parsed[-1] if parsed else None
    while stage is not None and all(stage is not s for s in chain):
        chain.append(stage)
        stage = _parent(stage, by_name)
    return list(reversed(chain))


def _load(ctx: FileContext) -> tuple[list[Stage], dict[str, Stage]] | ParseProblem:
    parsed = stages(ctx)
    if isinstance(parsed, str):
        return ParseProblem("dockerfile-parse", parsed)
    by_name = {s.name.lower(): s for s in parsed if s.name}
    return parsed, by_name


DockerfileCheck = Callable[[list[Stage], dict[str, Stage]], Iterable[Hit]]


def dockerfile_check(name: str) -> Callable[[DockerfileCheck], DockerfileCheck]:
    """Register a detector over a Dockerfile's stages (and stages by name); an unparseable
    Dockerfile becomes one parse problem, an empty one no finding."""

    def register(check: DockerfileCheck) -> DockerfileCheck:
        @file_detector(name)
        def detector(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit | ParseProblem]:
            loaded = _load(ctx)
            if isinstance(loaded, ParseProblem):
                yield loaded
            elif loaded[0]:
                yield from check(*loaded)

        return check

    return register


@file_detector("dockerfile_facts")
def dockerfile_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    yield Fact("dockerfile", "", 1)
    yield Fact("infrastructure", "Docker", 1)


@dockerfile_check("dockerfile_root_user")
def _root_user(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    final = parsed[-1]
    # the last USER of the final stage, or of the stage it is built FROM, and so on
    stage = next((st for st in reversed(shipped_stages(parsed, by_name)) if st.user), None)
    if stage is not None and stage.user is not None:
        user = stage.user.split(":")[0].strip()
        if user in {"root", "0"}:
            yield Hit("", stage.user_line, f"USER {stage.user}", "the last USER is root")
        return
    base = final.image.lower()
    if base == "scratch" or "nonroot" in base or base.endswith(":non-root"):
        return
    yield Hit(
        "", final.line, f"FROM {final.image}", "the final stage sets no USER, so it runs as root"
    )


@dockerfile_check("dockerfile_unpinned_base")
def _unpinned_base(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    earlier: set[str] = set()
    for stage in parsed:
        image = stage.image
        if (
            image.lower() in earlier
            or image.lower() == "scratch"
            or "$" in image
            or "@sha256:" in image
        ):
            pass
        else:
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last else ""
            if not tag or tag == "latest":
                what = "untagged" if not tag else "`latest`"
                yield Hit("", stage.line, f"FROM {image}", f"{image} is {what}")
        if stage.name:
            earlier.add(stage.name.lower())


@dockerfile_check("dockerfile_no_healthcheck")
def _no_healthcheck(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    if any(stage.healthcheck for stage in shipped_stages(parsed, by_name)):
        return
    yield Hit("", parsed[-1].line, f"FROM {parsed[-1].image}", "the final image has no HEALTHCHECK")


@dockerfile_check("dockerfile_single_stage")
def _single_stage(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    if len(parsed) != 1:
        return
    for item in parsed[0].instructions:
        if item["instruction"].upper() == "RUN":
            m = _BUILD_STEP.search(item["value"])
            if m:
                yield Hit(
                    "",
                    parsed[0].line,
                    f"FROM {parsed[0].image}",
                    f"one stage both builds (`{m.group(0)}`) and runs",
                )
                return


@dockerfile_check("dockerfile_hygiene")
def _hygiene(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    # Layers of build stages that are only copied from never ship: their caches do not matter.
    for stage in shipped_stages(parsed, by_name):
        for item in stage.instructions:
            instruction, value = item["instruction"].upper(), item["value"]
            line = int(item["startline"]) + 1
            if instruction == "RUN" and re.search(r"\bapt-get\s+(-\S+\s+)*install\b", value):
                # A BuildKit cache mount keeps the lists out of the layer as well as `rm -rf`.
                if "/var/lib/apt/lists" not in value and not re.search(
                    r"--mount=\S*type=cache\S*target=/var/lib/apt\b", value
                ):
                    yield Hit(
                        "", line, value[:120], "apt-get install without removing /var/lib/apt/lists"
                    )
            elif (
                instruction == "RUN"
                and re.search(r"\bapk\s+add\b", value)
                and "--no-cache" not in value
            ):
                yield Hit("", line, value[:120], "apk add without --no-cache")
            elif (
                instruction == "ADD"
                and re.search(r"\bhttps?://", value)
                and "--checksum=" not in value
            ):
                yield Hit("", line, value[:120], "ADD of a URL (unverified download)")


@dockerfile_check("dockerfile_secrets")
def _secrets(parsed: list[Stage], by_name: dict[str, Stage]) -> Iterable[Hit]:
    for stage in parsed:
        for item in stage.instructions:
            instruction = item["instruction"].upper()
            if instruction not in {"ENV", "ARG"}:
                continue
            for name, value in _assignments(item["value"]):
                if (
                    SECRET_NAME.search(name)
                    and value
                    and not value.startswith("/")
                    and not is_placeholder(value)
                ):
                    yield Hit(
                        "",
                        int(item["startline"]) + 1,
                        f"{instruction} {name}",
                        f"{instruction} {name} has a literal value",
                    )


def _assignments(value: str) -> list[tuple[str, str]]:
    """`A=1 B="x y"` or the legacy `A value` form."""
    if "=" not in value.split(" ", 1)[0]:
        name, _, rest = value.partition(" ")
        return [(name, rest.strip().strip("\"'"))]
    out = []
    for m in re.finditer(r"""(\w+)=("[^"]*"|'[^']*'|\S*)""", value):
        out.append((m.group(1), m.group(2).strip("\"'")))
    return out
