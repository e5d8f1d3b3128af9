"""`deployment_protection_rule` end to end. `@octokit/webhooks-examples` has no example of this
event, so the payload is built from its schema in GitHub's OpenAPI description (`x-webhooks` ->
`deployment-protection-rule-requested`) and validated against it; the App's answer is the
callback request the fake GitHub receives (checked against the description too)."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from app.store.models import Delivery
from tests.app.app_harness import send
from tests.app.fake_github import FakeGitHub, openapi
from tests.app.test_commands import (  # noqa: F401 - the fixtures of the command tests
    client,
    command,
    fake,
    repo,
    stop_ship_id,
)
from tests.gitrepo import git

RUN_ID = 4242
CALLBACK = (
    f"https://api.github.com/repos/octo/shop/actions/runs/{RUN_ID}/deployment_protection_rule"
)


def webhook_schema(name: str) -> dict[str, Any]:
    hook = openapi()["x-webhooks"][name]["post"]
    return hook["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def instance_of(schema: dict[str, Any], every_property: bool = False) -> Any:
    """A value the schema accepts, from its examples: required properties only below the top."""
    if "example" in schema and schema.get("type") not in {"object", "array"}:
        return copy.deepcopy(schema["example"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return instance_of(schema[key][0])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(instance_of(part))
        return merged
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        wanted = properties if every_property else schema.get("required", [])
        return {k: instance_of(properties[k]) for k in wanted if k in properties}
    if kind == "array":
        return []
    if kind == "string":
        formats = {"date-time": "2024-05-01T12:00:00Z", "uri": "https://api.github.com/"}
        return formats.get(schema.get("format", ""), "x")
    return {"integer": 1, "number": 1, "boolean": False}.get(str(kind))


def protection_rule_payload(sha: str, callback: str = CALLBACK) -> dict[str, Any]:
    schema = webhook_schema("deployment-protection-rule-requested")
    payload = instance_of(schema, every_property=True)
    payload.update(
        action="requested",
        environment="production",
        event="workflow_dispatch",
        deployment_callback_url=callback,
    )
    payload["deployment"].update(sha=sha, ref="main", environment="production")
    payload["repository"].update(id=186853002, full_name="octo/shop", name="shop")
    payload["installation"]["id"] = 77
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(payload)]
    assert errors == [], errors
    return payload


async def deploy(http: httpx.AsyncClient, sha: str, callback: str = CALLBACK) -> str:
    delivery = f"d-{uuid.uuid4().hex[:12]}"
    await send(http, "deployment_protection_rule", protection_rule_payload(sha, callback), delivery)
    async with http.app.state.sessions() as session:  # type: ignore[attr-defined]
        row = await session.get(Delivery, delivery)
    assert row is not None
    return row.status


def reviews(fake: FakeGitHub) -> list[dict[str, Any]]:
    calls = fake.calls("POST", f"/repos/octo/shop/actions/runs/{RUN_ID}/deployment_protection_rule")
    return [c.body for c in calls]


async def test_a_commit_with_a_stop_ship_is_rejected_and_the_fixed_one_approved(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    assert await deploy(client, git(repo, "rev-parse", "topic")) == "done"
    [rejected] = reviews(fake)
    assert (rejected["environment_name"], rejected["state"]) == ("production", "rejected")
    assert "NOT READY" in rejected["comment"]
    assert "1 open stop-ship finding." in rejected["comment"]
    assert "SEC002 app/admin.py:2" in rejected["comment"]
    assert fake.calls("POST", "/check-runs") == []  # a deployment gets a review, not a check

    assert await deploy(client, git(repo, "rev-parse", "main")) == "done"
    approved = reviews(fake)[-1]
    assert approved["state"] == "approved"
    assert "0 open stop-ship findings." in approved["comment"]
    # the callback went to the configured API, with the installation's token
    last = fake.calls("POST", "/deployment_protection_rule")[-1]
    assert last.headers["Authorization"].startswith("token ")


async def test_a_waived_stop_ship_no_longer_blocks_the_deployment(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    finding = await stop_ship_id(client, fake)
    await command(client, fake, f"/production waive {finding} internal tool, no user input")
    assert await deploy(client, git(repo, "rev-parse", "topic")) == "done"
    assert reviews(fake)[-1]["state"] == "approved"


async def test_an_invalid_config_at_the_commit_rejects_the_deployment(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    (repo / ".github").mkdir()
    (repo / ".github" / "stopship.yml").write_text("launch: {stage: publik}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "config")
    assert await deploy(client, git(repo, "rev-parse", "HEAD")) == "done"
    [review] = reviews(fake)
    assert review["state"] == "rejected" and "launch.stage" in review["comment"]


async def test_a_callback_for_another_repository_is_never_called(
    client: httpx.AsyncClient, fake: FakeGitHub, repo: Path
) -> None:
    other = CALLBACK.replace("octo/shop", "evil/elsewhere")
    assert await deploy(client, git(repo, "rev-parse", "main"), other) == "failed"
    assert fake.requests == []


def test_the_fake_rejects_a_review_github_would_reject() -> None:
    from tests.app.fake_github import problems_with

    path = f"/repos/o/r/actions/runs/{RUN_ID}/deployment_protection_rule"
    assert problems_with("POST", path, {"environment_name": "p", "state": "approve"})
    assert problems_with("POST", path, {"environment_name": "p", "state": "ok", "comment": "c"})
    assert problems_with("POST", path, {"state": "approved"})  # which environment?
    assert problems_with("POST", path, {"environment_name": "p", "state": "rejected"}) == []
    assert problems_with("POST", path, {"environment_name": "p", "comment": "wait"}) == []
