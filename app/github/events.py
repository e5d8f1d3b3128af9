"""Webhook deliveries parsed once, into typed events: the fields the App uses and nothing else
(everything else in a payload is ignored), with their types checked and ids within 64 bits. The
web route parses a delivery before it is stored (a malformed one is a 400, never a 500 later);
the queue's locks, superseding and every job read the typed event, never the raw payload.

GitHub's own examples (`@octokit/webhooks-examples`) parse: tests/github/test_events.py.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Id = Annotated[int, Field(ge=0, le=2**63 - 1)]
Name = Annotated[str, Field(max_length=1024)]
Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Model):
    login: Name = ""


class InstallationRef(_Model):
    id: Id
    account: Account | None = None


class RepositoryRef(_Model):
    id: Id
    full_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
    owner: Account | None = None
    # None when the payload does not say (a badge is served only for a repository known public)
    private: bool | None = None
    default_branch: Name | None = None

    @property
    def owner_name(self) -> tuple[str, str]:
        owner, name = self.full_name.split("/", 1)
        return owner, name


class Place(_Model):
    """Where a delivery happened: the installation and the repository (every event we judge)."""

    installation: InstallationRef
    repository: RepositoryRef


class Event(_Model):
    """The fields every delivery may carry."""

    action: Name | None = None
    installation: InstallationRef | None = None
    repository: RepositoryRef | None = None

    @property
    def place(self) -> Place:
        """The installation and repository; ValueError when the delivery names neither."""
        if self.installation is None or self.repository is None:
            raise ValueError("the delivery names no installation or repository")
        return Place(installation=self.installation, repository=self.repository)


class PushCommit(_Model):
    added: list[Name] = []
    modified: list[Name] = []


class PushEvent(Event):
    ref: Name = ""
    before: Name = ""
    after: Name = ""
    deleted: bool = False
    commits: list[PushCommit] | None = None


class GitRef(_Model):
    ref: Name = ""
    sha: Sha


class PullRequest(_Model):
    number: Id
    state: Name = "open"
    head: GitRef
    base: GitRef


class PullRequestEvent(Event):
    pull_request: PullRequest
    changes: dict[str, Any] | None = None


class MergeGroup(_Model):
    head_sha: Sha
    base_sha: Sha
    base_ref: Name


class MergeGroupEvent(Event):
    merge_group: MergeGroup


class PullRef(_Model):
    """A pull request as a check suite or check run names it (none for a fork's)."""

    number: Id
    head: GitRef
    base: GitRef


class CheckSuite(_Model):
    head_sha: Sha
    head_branch: Name | None = None
    pull_requests: list[PullRef] = []


class CheckSuiteEvent(Event):
    check_suite: CheckSuite


class CheckRun(_Model):
    id: Id
    check_suite: CheckSuite
    pull_requests: list[PullRef] = []


class CheckRunEvent(Event):
    check_run: CheckRun


class Commenter(_Model):
    login: Name
    type: Name = "User"


class Comment(_Model):
    id: Id
    body: str | None = None
    html_url: Name = ""
    user: Commenter


class Issue(_Model):
    number: Id
    pull_request: dict[str, Any] | None = None


class IssueCommentEvent(Event):
    issue: Issue
    comment: Comment


class Deployment(_Model):
    sha: Name = ""
    ref: Name = ""
    environment: Name = ""


class DeploymentProtectionRuleEvent(Event):
    environment: Name | None = None
    deployment: Deployment | None = None
    deployment_callback_url: Name | None = None


class RepositoryItem(_Model):
    id: Id
    full_name: Name = ""
    private: bool | None = None


class InstallationEvent(Event):
    repositories: list[RepositoryItem] | None = None
    repositories_added: list[RepositoryItem] | None = None
    repositories_removed: list[RepositoryItem] | None = None


EventName = Literal[
    "push",
    "pull_request",
    "merge_group",
    "check_suite",
    "check_run",
    "issue_comment",
    "deployment_protection_rule",
    "installation",
    "installation_repositories",
    "ping",
]
MODELS: dict[str, type[Event]] = {
    "push": PushEvent,
    "pull_request": PullRequestEvent,
    "merge_group": MergeGroupEvent,
    "check_suite": CheckSuiteEvent,
    "check_run": CheckRunEvent,
    "issue_comment": IssueCommentEvent,
    "deployment_protection_rule": DeploymentProtectionRuleEvent,
    "installation": InstallationEvent,
    "installation_repositories": InstallationEvent,
    "ping": Event,
}
# events judged in a repository: they must name the installation and the repository
_PLACED = frozenset(MODELS) - {"installation", "installation_repositories", "ping"}


class MalformedDelivery(ValueError):
    """A delivery whose payload does not have the shape of its event (str() says where)."""


def parse_event(event: str, payload: dict[str, Any]) -> Event:
    """The typed event of a delivery (an event we do not handle: the common fields only).
    Raises MalformedDelivery naming the first field that is wrong."""
    model = MODELS.get(event, Event)
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise MalformedDelivery(f"{event}: {where}: {first['msg']}") from None
    if event in _PLACED and (parsed.installation is None or parsed.repository is None):
        raise MalformedDelivery(f"{event}: the payload names no installation or repository")
    return parsed


def parse_stored(event: str, raw: str) -> Event:
    """`parse_event` of a payload as the JSON text GitHub sent (a stored delivery)."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedDelivery(f"{event}: not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedDelivery(f"{event}: not a JSON object")
    return parse_event(event, payload)
