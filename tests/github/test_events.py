"""Deliveries parsed once into typed events: every one of GitHub's examples of the events the App
handles parses; malformed payloads (wrong types, ids beyond 64 bits, a missing repository) are
refused with the field that is wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.github.events import (
    MODELS,
    CheckRunEvent,
    MalformedDelivery,
    PullRequestEvent,
    PushEvent,
    parse_event,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / ".cache" / "github" / "webhooks-examples" / "api.github.com" / "index.json"


def examples() -> list[tuple[str, dict[str, Any]]]:
    assert EXAMPLES.is_file(), "run scripts/setup_test_assets.sh (.ci/run does) first"
    out = []
    for entry in json.loads(EXAMPLES.read_text()):
        if entry["name"] in MODELS:
            out += [(entry["name"], example) for example in entry["examples"]]
    return out


def test_every_github_example_of_a_handled_event_parses() -> None:
    found = examples()
    assert {name for name, _ in found} >= {
        "push", "pull_request", "check_suite", "check_run", "issue_comment", "merge_group",
        "installation", "installation_repositories", "ping",
    }  # fmt: skip
    for name, payload in found:
        # a repository webhook's example; an App's delivery names its installation too
        payload.setdefault("installation", {"id": 1})
        parse_event(name, payload)


def first(name: str, action: str | None = None) -> dict[str, Any]:
    """GitHub's first example of `name` (and `action`), as an App receives it."""
    found = next(p for n, p in examples() if n == name and action in (None, p.get("action")))
    return {"installation": {"id": 7}, **copy.deepcopy(found)}


def test_the_fields_used_are_typed() -> None:
    push = parse_event("push", first("push"))
    assert isinstance(push, PushEvent) and push.place.repository.id > 0
    pr = parse_event("pull_request", first("pull_request", "opened"))
    assert isinstance(pr, PullRequestEvent) and len(pr.pull_request.head.sha) == 40
    run = parse_event("check_run", first("check_run", "rerequested"))
    assert isinstance(run, CheckRunEvent) and run.check_run.check_suite.head_sha


@pytest.mark.parametrize(
    ("event", "change", "where"),
    [
        ("push", lambda p: p["repository"].update(id=2**64), "repository.id"),
        ("push", lambda p: p.update(repository="octo/shop"), "repository"),
        ("pull_request", lambda p: p.update(pull_request=7), "pull_request"),
        ("pull_request", lambda p: p["pull_request"]["head"].update(sha="HEAD"),
         "pull_request.head.sha"),
        ("check_run", lambda p: p["check_run"].update(id="1; drop"), "check_run.id"),
        ("issue_comment", lambda p: p["comment"].update(user=None), "comment.user"),
        ("push", lambda p: p.pop("repository"), "names no installation or repository"),
        ("push", lambda p: p["repository"].update(full_name="../../etc"), "repository.full_name"),
    ],
)  # fmt: skip
def test_a_malformed_delivery_is_refused_naming_the_field(
    event: str, change: Any, where: str
) -> None:
    payload = first(event, "opened" if event == "pull_request" else None)
    change(payload)
    with pytest.raises(MalformedDelivery) as error:
        parse_event(event, payload)
    assert where in str(error.value)
