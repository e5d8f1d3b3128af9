"""Compose files, Kubernetes manifests and .dockerignore, read as YAML node trees (lines kept).

Literal secrets in compose `environment` are common (37 in 82 services of six real repositories)
and no peer lints compose, so they are checked here along with limits, health-gated depends_on and
anonymous data volumes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node

from app.engine.context import FileContext
from app.engine.detectors import RepoHit, RepoView, file_detector, repo_detector
from app.engine.detectors.container_image import SECRET_NAME
from app.engine.detectors.secret_values import is_placeholder
from app.engine.detectors.secrets import written_url_password
from app.engine.detectors.yaml_nodes import (
    YamlDocumentError,
    documents,
    get,
    items,
    key_node,
    line,
    path,
    scalar,
    sequence,
)
from app.engine.model import Fact, Hit, ParseProblem

_DATA_PATH = re.compile(r"^/(var/lib|data|srv|bitnami|var/opt|opt/\w+/data)")
_IGNORE_ALIASES = {
    ".git": ".git",
    ".env": ".env",
    ".env*": ".env",
    ".env.*": ".env",
    "*.env": ".env",
    "node_modules": "node_modules",
    "*": "*",
}
# Dockerfiles that do not ship (dev containers, local-only builds) need no .dockerignore finding.
_DEV_DOCKERFILE = re.compile(
    r"(^|/)\.devcontainer/|(^|/)(Dockerfile\.(dev|development|local|test)"
    r"|(dev|development|local|test)\.Dockerfile)$"
)
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"}


def _parse(ctx: FileContext) -> list[Node] | ParseProblem:
    try:
        return documents(ctx.text)
    except YamlDocumentError as exc:
        return ParseProblem("yaml", str(exc))


def _services(ctx: FileContext) -> Iterable[tuple[str, Node, Node] | ParseProblem]:
    docs = _parse(ctx)
    if isinstance(docs, ParseProblem):
        yield docs
        return
    for doc in docs:
        for name, key, body in items(get(doc, "services")):
            yield name, key, _flattened(body)


def _flattened(node: Node) -> Node:
    """A mapping with its `<<: *anchor` merge keys applied, explicit keys winning (as Compose
    does), so limits or environment shared through an `x-` anchor are seen."""
    if not isinstance(node, MappingNode):
        return node
    if not any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
        return node
    try:
        SafeConstructor().flatten_mapping(node)  # merged pairs first, then the explicit ones
    except yaml.YAMLError:
        return node  # `<<:` of something that is not a mapping: Compose rejects it too
    last: dict[str, int] = {str(k.value): i for i, (k, _) in enumerate(node.value)}
    node.value = [pair for i, pair in enumerate(node.value) if last[str(pair[0].value)] == i]
    return node


def _environment(service: Node) -> Iterable[tuple[str, str | None, Node]]:
    env = get(service, "environment")
    if env is not None:
        env = _flattened(env)
    if isinstance(env, MappingNode):
        for name, _, node in items(env):
            yield name, scalar(node), node
    for entry in sequence(env):
        text = scalar(entry) or ""
        key, sep, literal = text.partition("=")
        yield key, literal if sep else None, entry


@file_detector("compose_secrets")
def compose_secrets(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit | ParseProblem]:
    for item in _services(ctx):
        if isinstance(item, ParseProblem):
            yield item
            continue
        service, _, body = item
        for name, value, node in _environment(body):
            if not value or value.startswith("$") or "${" in value:
                continue
            if SECRET_NAME.search(name) and not is_placeholder(value):
                detail = f"service {service}: {name} is a literal"
            elif "://" in value and written_url_password(value) is not None:
                detail = f"service {service}: {name} holds a password in a connection URL"
            else:
                continue
            yield Hit("", line(node), f"{service}.{name}", detail)


@file_detector("compose_hygiene")
def compose_hygiene(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    for item in _services(ctx):
        if isinstance(item, ParseProblem):
            yield item
            continue
        service, key, body = item
        if not isinstance(body, MappingNode):
            continue
        limits = path(body, "deploy", "resources", "limits")
        if limits is None and get(body, "mem_limit") is None and get(body, "cpus") is None:
            yield Hit(
                "", line(key), f"{service}:limits", f"service {service} has no resource limits"
            )
        depends = get(body, "depends_on")
        for dep in sequence(depends):
            name = scalar(dep)
            yield Hit(
                "",
                line(dep),
                f"{service}:depends_on:{name}",
                f"service {service} depends_on {name} without condition: service_healthy",
            )
        for name, dep_key, dep_body in items(depends):
            condition = scalar(get(dep_body, "condition"))
            if condition not in {"service_healthy", "service_completed_successfully"}:
                yield Hit(
                    "",
                    line(dep_key),
                    f"{service}:depends_on:{name}",
                    f"service {service} depends_on {name} without condition: service_healthy",
                )
        for volume in sequence(get(body, "volumes")):
            spec = scalar(volume)
            if spec and ":" not in spec and _DATA_PATH.match(spec):
                yield Hit(
                    "",
                    line(volume),
                    f"{service}:volume:{spec}",
                    f"service {service}: anonymous volume for {spec} (lost on `down -v`/recreate)",
                )


@file_detector("compose_no_networks")
def compose_no_networks(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """Several services and no network declared: everything can reach everything (the database
    included), and nothing documents which service talks to which."""
    docs = _parse(ctx)
    if isinstance(docs, ParseProblem):
        return
    for doc in docs:
        services = list(items(get(doc, "services")))
        if len(services) < 2 or get(doc, "networks") is not None:
            continue
        if any(get(body, "networks") is not None for _, _, body in services):
            continue
        where = key_node(doc, "services")
        yield Hit(
            "",
            line(where) if where else 1,
            "no networks",
            f"{len(services)} services share the default network",
        )


@file_detector("compose_facts")
def compose_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    yield Fact("infrastructure", "Docker Compose", 1)


def _workloads(ctx: FileContext) -> Iterable[tuple[str, str, Node] | ParseProblem]:
    """(kind, name, pod spec) for every workload document."""
    if "apiVersion" not in ctx.text or "kind" not in ctx.text:
        return
    if "{{" in ctx.text:
        return  # a Helm / Go template: its values are filled in at render time, not here
    docs = _parse(ctx)
    if isinstance(docs, ParseProblem):
        yield docs
        return
    for doc in docs:
        kind = scalar(get(doc, "kind"))
        if kind not in _WORKLOADS or get(doc, "apiVersion") is None:
            continue
        name = scalar(path(doc, "metadata", "name")) or "?"
        if kind == "Pod":
            spec = get(doc, "spec")
        elif kind == "CronJob":
            spec = path(doc, "spec", "jobTemplate", "spec", "template", "spec")
        else:
            spec = path(doc, "spec", "template", "spec")
        if spec is not None:
            yield kind, name, spec


@file_detector("kubernetes_hygiene")
def kubernetes_hygiene(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    for item in _workloads(ctx):
        if isinstance(item, ParseProblem):
            yield item
            continue
        kind, name, spec = item
        yield Fact("infrastructure", "Kubernetes", None)
        pod_context = get(spec, "securityContext")
        pod_user = scalar(get(pod_context, "runAsUser"))
        pod_non_root = scalar(get(pod_context, "runAsNonRoot")) == "true" or (
            pod_user is not None and pod_user.isdigit() and pod_user != "0"
        )
        for container in sequence(get(spec, "containers")):
            cname = scalar(get(container, "name")) or "?"
            where = f"{kind} {name}, container {cname}"
            at = line(key_node(container, "name") or container)
            resources = get(container, "resources")
            if get(resources, "limits") is None or get(resources, "requests") is None:
                yield Hit(
                    "", at, f"{name}/{cname}:resources", f"{where}: no resource requests/limits"
                )
            missing = [p for p in ("livenessProbe", "readinessProbe") if get(container, p) is None]
            if missing and kind not in {"Job", "CronJob"}:
                yield Hit("", at, f"{name}/{cname}:probes", f"{where}: no {' / '.join(missing)}")
            context = get(container, "securityContext")
            if scalar(get(context, "privileged")) == "true":
                yield Hit("", at, f"{name}/{cname}:privileged", f"{where}: privileged")
            elif (user := scalar(get(context, "runAsUser")) or pod_user) == "0":
                yield Hit("", at, f"{name}/{cname}:root", f"{where}: runs as user 0")
            elif (
                not pod_non_root
                and scalar(get(context, "runAsNonRoot")) != "true"
                and not (user is not None and user.isdigit())
            ):
                yield Hit("", at, f"{name}/{cname}:nonroot", f"{where}: runAsNonRoot is not set")


@file_detector("dockerignore_entries")
def dockerignore_entries(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    yield Fact("dockerignore", "", None)
    for raw in ctx.lines:
        entry = raw.strip().strip("/")
        if entry.startswith("**/"):
            entry = entry[3:]
        normal = _IGNORE_ALIASES.get(entry)
        if normal:
            yield Fact("dockerignore-excludes", normal, None)


@repo_detector("dockerignore_missing")
def dockerignore_missing(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    dockerfiles = [p for p, _ in view.where("dockerfile") if not _DEV_DOCKERFILE.search(p)]
    if not dockerfiles:
        return
    ignores = {posixpath.dirname(p): p for p, _ in view.where("dockerignore")}
    excluded: dict[str, set[str]] = {}
    for p, fact in view.where("dockerignore-excludes"):
        excluded.setdefault(posixpath.dirname(p), set()).add(fact.value)
    has_node = any(posixpath.basename(p) == "package.json" for p in view.paths)
    reported: set[str] = set()
    for dockerfile in dockerfiles:
        folder = posixpath.dirname(dockerfile)
        context = folder if folder in ignores else ""
        if context not in ignores:
            if "" not in reported:
                reported.add("")
                yield RepoHit(
                    path=dockerfile,
                    line=None,
                    text="no .dockerignore",
                    detail="no .dockerignore: .git, .env and local files go into the build",
                )
            continue
        have = excluded.get(context, set())
        if "*" in have:
            continue
        wanted = [".git", ".env"] + (["node_modules"] if has_node else [])
        missing = [w for w in wanted if w not in have]
        if missing and context not in reported:
            reported.add(context)
            yield RepoHit(
                path=ignores[context],
                text=f"missing {','.join(missing)}",
                detail=f".dockerignore does not exclude {', '.join(missing)}",
            )
