"""What the GitHub App asks of GitHub, from one table: the permission each REST operation it calls
needs and the events it subscribes to. The App's manifest (GitHub's App-from-manifest flow,
`deploy/github-app-manifest.json`, `stopship app-manifest --url URL`) and the README's
permission list are generated from it; the tests check it against the requests the App's tests
send to the fake GitHub and against the calls in the code.

The permissions are GitHub's ("Permissions required for GitHub Apps" on docs.github.com; the REST
description's `x-github` data carries none for these operations). A tuple lists alternatives:
GitHub accepts either, the first is the one the App asks for.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from app.jobs.handlers import SUPPORTED_EVENTS

Access = Literal["read", "write"]
Permission = tuple[str, Access]

# OpenAPI operationId -> the installation permission it needs; None: an endpoint of the App
# itself, called with its JWT (no installation permission)
OPERATIONS: dict[str, tuple[Permission, ...] | None] = {
    "checks/create": (("checks", "write"),),
    "checks/update": (("checks", "write"),),
    "checks/list-for-ref": (("checks", "read"),),
    "git/get-tree": (("contents", "read"),),
    "git/get-blob": (("contents", "read"),),
    "repos/get-content": (("contents", "read"),),
    "repos/download-tarball-archive": (("contents", "read"),),
    "repos/compare-commits": (("contents", "read"),),
    "repos/list-commits": (("contents", "read"),),
    "repos/get-branch": (("contents", "read"),),
    "repos/list-tags": (("metadata", "read"),),
    # the rules (rulesets) that apply to a branch; classic protection needs Administration
    "repos/get-branch-rules": (("metadata", "read"),),
    "repos/get-status-checks-protection": (("administration", "read"),),
    "dependabot/list-alerts-for-repo": (("vulnerability_alerts", "read"),),
    "repos/get-collaborator-permission-level": (("metadata", "read"),),
    "repos/list-pull-requests-associated-with-commit": (("pull_requests", "read"),),
    "pulls/get": (("pull_requests", "read"),),
    # comments and reactions in a pull request's conversation (the issues API serves both)
    "issues/list-comments": (("pull_requests", "read"), ("issues", "read")),
    "issues/create-comment": (("pull_requests", "write"), ("issues", "write")),
    "issues/update-comment": (("pull_requests", "write"), ("issues", "write")),
    "reactions/create-for-issue-comment": (("pull_requests", "write"), ("issues", "write")),
    "repos/list-deployments": (("deployments", "read"),),
    "repos/list-deployment-statuses": (("deployments", "read"),),
    "actions/review-custom-gates-for-run": (("deployments", "write"),),
    "apps/create-installation-access-token": None,
    "apps/list-webhook-deliveries": None,
    "apps/redeliver-webhook-delivery": None,
}

# webhook event the App subscribes to -> the permissions GitHub requires to subscribe to it
EVENTS: dict[str, tuple[Permission, ...]] = {
    "push": (("contents", "read"),),
    "pull_request": (("pull_requests", "read"),),
    "check_suite": (("checks", "read"),),
    "check_run": (("checks", "read"),),
    "merge_group": (("merge_queues", "read"),),
    "issue_comment": (("issues", "read"),),
    # a custom deployment protection rule: GitHub's guide asks for Actions (read) beside it
    "deployment_protection_rule": (("deployments", "read"), ("actions", "read")),
}
# sent to every App whatever it subscribes to (GitHub offers no box for them)
ALWAYS_DELIVERED = frozenset({"installation", "installation_repositories", "ping"})

TITLES = {
    "actions": "Actions",
    "administration": "Administration",
    "checks": "Checks",
    "contents": "Contents",
    "deployments": "Deployments",
    "issues": "Issues",
    "merge_queues": "Merge queues",
    "metadata": "Metadata",
    "pull_requests": "Pull requests",
    "vulnerability_alerts": "Dependabot alerts",
}
PLACEHOLDER_URL = "https://stopship.example.com/webhooks/github"


def subscribed_events() -> list[str]:
    """The events to subscribe to: every event the App handles that GitHub does not send
    unasked."""
    return sorted(SUPPORTED_EVENTS - ALWAYS_DELIVERED)


def required_permissions() -> dict[str, Access]:
    """The least the App needs: for each permission, the highest access an operation or an event
    needs (Metadata read, which GitHub grants every App, included)."""
    needed: dict[str, Access] = {"metadata": "read"}
    wanted = [alternatives[0] for alternatives in OPERATIONS.values() if alternatives]
    wanted += [p for event in subscribed_events() for p in EVENTS[event]]
    for name, access in wanted:
        if needed.get(name) != "write":
            needed[name] = access
    return dict(sorted(needed.items()))


def grants(permissions: dict[str, str], needed: tuple[Permission, ...] | None) -> bool:
    """Whether `permissions` satisfy one of the alternatives (None: no permission needed)."""
    if needed is None:
        return True
    return any(permissions.get(name) in ({"write"} if a == "write" else {"read", "write"})
               for name, a in needed)  # fmt: skip


def manifest(webhook_url: str, name: str = "stopship") -> dict[str, Any]:
    """The App's manifest for GitHub's App-from-manifest flow, delivering to `webhook_url`
    (`name` must be unique on GitHub; the flow lets the user change it)."""
    parts = urlsplit(webhook_url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {webhook_url!r}")
    return {
        "name": name,
        "url": f"{parts.scheme}://{parts.netloc}",
        "description": "Production-readiness gate: a check run with a score and stop-ship "
        "findings on every push, pull request and merge queue entry.",
        "hook_attributes": {"url": webhook_url, "active": True},
        "public": False,
        "default_permissions": required_permissions(),
        "default_events": subscribed_events(),
    }


def permission_lines() -> str:
    """The README's list: each permission, its access, and what needs it."""
    reasons: dict[str, list[str]] = {}
    for event in subscribed_events():
        for name, _ in EVENTS[event]:
            reasons.setdefault(name, []).append(f"`{event}` events")
    for operation, alternatives in OPERATIONS.items():
        if alternatives:
            reasons.setdefault(alternatives[0][0], []).append(f"`{operation}`")
    lines = []
    for name, access in required_permissions().items():
        level = "read & write" if access == "write" else "read"
        why = ", ".join(reasons.get(name, ["granted to every App"]))
        lines.append(f"- *{TITLES[name]}*: {level} — {why}")
    return "\n".join(lines) + "\n"


def readme_block() -> str:
    """The README's App section between its `app-permissions` markers."""
    events = ", ".join(f"`{event}`" for event in subscribed_events())
    return f"Events: {events}.\n\nPermissions:\n\n{permission_lines()}"
