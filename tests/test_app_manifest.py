"""The GitHub App asks for exactly what it uses: every event it handles is subscribed to, every
permission its requests need is granted, and nothing more; the manifest in deploy/, the one
`stopship app-manifest` prints and the README's list come from one table (app/app_manifest.py).
The fake GitHub checks every request the App's tests send against that table and the manifest
(tests/app/fake_github.py: permission_problems), so a new API call without its permission fails
those tests."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.app_manifest import (
    ALWAYS_DELIVERED,
    EVENTS,
    OPERATIONS,
    PLACEHOLDER_URL,
    grants,
    manifest,
    readme_block,
    required_permissions,
    subscribed_events,
)
from app.cli import cli
from app.jobs.handlers import SUPPORTED_EVENTS
from tests.app.fake_github import openapi, permission_problems

ROOT = Path(__file__).resolve().parents[1]


def _operations_by_id() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path template, operation) of GitHub's REST description."""
    out = {}
    for template, item in openapi()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                out[op["operationId"]] = (method.upper(), template, op)
    return out


def _called_operations() -> set[str]:
    """The operations app/ calls: githubkit's `rest.<category>.async_<name>(...)` (named after
    the operationId) and raw `arequest("METHOD", f"/path")` calls."""
    by_method_name = {
        (oid.split("/")[0].replace("-", "_"), "async_" + oid.split("/")[1].replace("-", "_")): oid
        for oid in _operations_by_id()
    }
    routes = {(m, t): oid for oid, (m, t, _) in _operations_by_id().items()}
    called: set[str] = set()
    for source in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            if (
                isinstance(owner, ast.Attribute)
                and isinstance(owner.value, ast.Attribute)
                and owner.value.attr == "rest"
            ):
                key = (owner.attr, node.func.attr)
                assert key in by_method_name, f"{source}: rest.{key[0]}.{key[1]}"
                called.add(by_method_name[key])
            if node.func.attr == "arequest" and len(node.args) >= 2:
                method = ast.literal_eval(node.args[0])
                path = node.args[1]
                assert isinstance(path, ast.JoinedStr), f"{source}: arequest with a plain path"
                template = "".join(
                    part.value if isinstance(part, ast.Constant) else "{}" for part in path.values
                )
                matches = [
                    oid
                    for (m, t), oid in routes.items()
                    if m == method and re.sub(r"\{[^}]+\}", "{}", t) == template
                ]
                assert len(matches) == 1, f"{source}: {method} {template}: {matches}"
                called.add(matches[0])
    return called


def test_every_event_the_app_handles_is_subscribed_and_no_other() -> None:
    document = manifest(PLACEHOLDER_URL)
    assert set(document["default_events"]) == SUPPORTED_EVENTS - ALWAYS_DELIVERED
    assert set(EVENTS) == set(document["default_events"])  # each with its permissions


def test_the_permission_table_lists_exactly_the_operations_the_code_calls() -> None:
    called = _called_operations()
    # githubkit asks for installation tokens itself
    assert called | {"apps/create-installation-access-token"} == set(OPERATIONS)
    assert "checks/create" in called and "repos/download-tarball-archive" in called


def test_the_table_agrees_with_github_s_description_where_it_says() -> None:
    """GitHub's REST description carries no `x-github` permission data for these operations
    today; where it has some, or its text names a permission (`checks:write`) or the App's JWT,
    the table must agree."""
    operations = _operations_by_id()
    for operation_id, needed in OPERATIONS.items():
        _, _, op = operations[operation_id]
        stated = (op.get("x-github") or {}).get("permissions") or {}
        named = dict(re.findall(r"`([a-z_]+):(read|write)`", op.get("description", "")))
        for name, access in {**stated, **named}.items():
            assert needed is not None and (name, access) in needed, (operation_id, name, access)
        jwt_only = "must use a [JWT]" in op.get("description", "")
        assert jwt_only == (needed is None), operation_id


def test_every_permission_is_needed_and_granted() -> None:
    permissions = required_permissions()
    needs = [n for n in OPERATIONS.values()] + [
        tuple([p]) for event in subscribed_events() for p in EVENTS[event]
    ]
    assert all(grants(permissions, needed) for needed in needs)
    for name, access in permissions.items():
        if name == "metadata":
            continue  # GitHub grants Metadata (read) to every App
        lowered = dict(permissions)
        if access == "write":
            lowered[name] = "read"
        else:
            del lowered[name]
        assert not all(grants(lowered, needed) for needed in needs), f"{name}: {access} unused"
    assert permissions == {
        "actions": "read",
        "administration": "read",
        "checks": "write",
        "contents": "read",
        "deployments": "write",
        "issues": "read",
        "merge_queues": "read",
        "metadata": "read",
        "pull_requests": "write",
        "vulnerability_alerts": "read",
    }


def test_the_fake_github_refuses_a_call_the_table_does_not_grant() -> None:
    assert permission_problems("POST", "/repos/o/r/check-runs") == []
    assert permission_problems("GET", "/app/hook/deliveries") == []
    assert permission_problems("DELETE", "/repos/o/r")  # not an operation the App calls
    assert permission_problems("PUT", "/repos/o/r/pulls/1/merge")


def test_the_deployed_manifest_and_the_readme_are_generated_from_the_table() -> None:
    deployed = json.loads((ROOT / "deploy" / "github-app-manifest.json").read_text())
    assert deployed == manifest(PLACEHOLDER_URL), "stopship app-manifest --url " + PLACEHOLDER_URL
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- app-permissions:start -->\n")[1].split("<!-- app-permissions:end")
    assert block[0] == readme_block()


def test_app_manifest_prints_the_manifest_for_a_webhook_url() -> None:
    url = "https://ci.example.org/stopship/webhooks/github"
    result = CliRunner().invoke(cli, ["app-manifest", "--url", url])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["hook_attributes"] == {"url": url, "active": True}
    assert printed["url"] == "https://ci.example.org"
    assert printed["default_permissions"] == required_permissions()
    refused = CliRunner().invoke(cli, ["app-manifest", "--url", "javascript:alert(1)"])
    assert refused.exit_code == 2
