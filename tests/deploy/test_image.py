"""The container image (issue 14): the server stack comes from a hashed lock file that covers
what pyproject.toml asks for, the runtime stage holds no tool the server does not use, carries
the OCI labels, and one HEALTHCHECK fits both `serve` and `worker`; the compose file passes the
App's secrets as compose secrets. (No container engine runs on the test machines: the build
itself is not exercised here; hadolint and `stopship check` lint the Dockerfile.)"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.peers.comparison import tool

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "server.lock"
BUILD_LOCK = ROOT / "requirements" / "build.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# the image's interpreter: Linux, CPython 3.11
IMAGE_PLATFORM = {"sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of each pinned requirement of a lock file."""
    entries: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            entries[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
        elif line.strip() and not line.startswith("#") and not line.startswith(" "):
            raise AssertionError(f"{path.name}: not a pinned requirement: {line}")
    return entries


def instructions(stage: int) -> list[dict[str, str]]:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    stages: list[list[dict[str, str]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages[stage]


@pytest.mark.parametrize("lock", [LOCK, BUILD_LOCK], ids=lambda p: p.name)
def test_every_locked_package_is_pinned_with_hashes(lock: Path) -> None:
    entries = locked(lock)
    assert entries
    unhashed = [name for name, (_, hashes) in entries.items() if hashes == 0]
    assert unhashed == []


def test_the_lock_satisfies_the_server_requirements_of_pyproject() -> None:
    entries = locked(LOCK)
    extras = PYPROJECT["project"]["optional-dependencies"]
    # the server stack and OpenTelemetry (tracing, on when an OTLP endpoint is set)
    wanted = PYPROJECT["project"]["dependencies"] + extras["app"] + extras["otel"]
    for text in wanted:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate(IMAGE_PLATFORM):
            continue
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{name} is not in {LOCK.name}: regenerate it"
        assert requirement.specifier.contains(entries[name][0], prereleases=True), (
            f"{LOCK.name} pins {name}=={entries[name][0]}, pyproject asks {requirement}"
        )
    assert "stopship" not in entries  # the image installs its own wheel


def test_the_build_lock_satisfies_the_build_backend() -> None:
    entries = locked(BUILD_LOCK)
    for text in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(text)
        assert requirement.specifier.contains(entries[canonicalize_name(requirement.name)][0])


def test_the_build_installs_only_from_the_locks() -> None:
    runs = [i["value"] for i in instructions(0) if i["instruction"] == "RUN"]
    installs = [
        part.strip()
        for run in runs
        for part in run.split("&&")
        if re.search(r"pip (install|wheel)", part)
    ]
    assert installs
    for install in installs:
        from_lock = "--require-hashes" in install and "-r requirements/" in install
        own_wheel = "--no-deps" in install
        assert from_lock or own_wheel, install
    assert any("-r requirements/server.lock" in i for i in installs)


def test_the_runtime_stage_has_no_tools_the_server_does_not_use() -> None:
    runtime = instructions(-1)
    commands = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert "apt-get" not in commands and "git" not in commands.split()
    assert "pip uninstall --yes pip" in commands
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    [user] = [i["value"] for i in runtime if i["instruction"] == "USER"]
    assert user.isdigit() and int(user) > 0


def test_the_oci_labels_name_source_version_and_revision() -> None:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    labels = parser.labels  # ARG defaults substituted
    assert labels["org.opencontainers.image.source"].startswith("https://github.com/")
    assert labels["org.opencontainers.image.version"] == PYPROJECT["project"]["version"]
    assert labels["org.opencontainers.image.revision"] == "unknown"  # --build-arg REVISION=<sha>
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"]


def test_one_healthcheck_fits_serve_and_the_worker() -> None:
    [check] = [i["value"] for i in instructions(-1) if i["instruction"] == "HEALTHCHECK"]
    assert "STOPSHIP_HEALTHCHECK_URL" in check and "/healthz/live" in check
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]
    assert "healthcheck" not in worker  # the image's, pointed at the worker's /healthz
    port = worker["command"][worker["command"].index("--metrics-port") + 1]
    assert worker["environment"]["STOPSHIP_HEALTHCHECK_URL"] == f"http://127.0.0.1:{port}/healthz"


def test_compose_passes_the_secrets_as_compose_secrets() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert set(compose["secrets"]) == {
        "github_app_id",
        "github_private_key",
        "github_webhook_secret",
        "postgres_password",
    }
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for variable, value in environment.items():
            assert "${" not in str(value), (name, variable)  # nothing secret interpolated
        assert not {"STOPSHIP_GITHUB_PRIVATE_KEY", "POSTGRES_PASSWORD"} & set(environment), name
    app = compose["services"]["app"]
    assert (
        app["environment"]["STOPSHIP_GITHUB_PRIVATE_KEY_FILE"] == "/run/secrets/github_private_key"
    )
    assert "github_webhook_secret" in app["secrets"]
    assert "github_webhook_secret" not in compose["services"]["worker"]["secrets"]
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == (
        "/run/secrets/postgres_password"
    )


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    done = subprocess.run(
        [str(tool("hadolint")), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "")
