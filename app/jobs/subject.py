"""What a delivery is about, for the queues: which jobs must run one at a time, and which newer
job makes an older one's verdict obsolete.

- `lock`: deliveries with the same lock run one after another (never two analyses of the same
  branch or pull request at once, in any queue backend, on any number of workers).
- `supersede`: a newer delivery with the same key supersedes an older one that has not published
  yet (a new push to a branch, a new head on a pull request); commands never supersede anything.
- `sha`: the commit the delivery asks to judge, when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.github.events import (
    CheckRunEvent,
    CheckSuiteEvent,
    DeploymentProtectionRuleEvent,
    Event,
    IssueCommentEvent,
    MergeGroupEvent,
    PullRequestEvent,
    PushEvent,
)


@dataclass(frozen=True)
class JobSubject:
    lock: str | None
    supersede: str | None
    sha: str | None


NONE = JobSubject(None, None, None)


def job_subject(event: Event) -> JobSubject:
    """The subject of one delivery, from its typed event."""
    if event.repository is None:
        return NONE
    repo = event.repository.id
    if isinstance(event, PushEvent):
        key = f"{repo}:ref:{event.ref}"
        return JobSubject(key, key, _sha(event.after))
    if isinstance(event, PullRequestEvent):
        key = f"{repo}:pr:{event.pull_request.number}"
        return JobSubject(key, key, event.pull_request.head.sha)
    if isinstance(event, IssueCommentEvent):
        if event.issue.pull_request:  # comments on pull requests share the PR's lock
            return JobSubject(f"{repo}:pr:{event.issue.number}", None, None)
        return JobSubject(f"{repo}:issue:{event.issue.number}", None, None)
    if isinstance(event, MergeGroupEvent):
        sha = event.merge_group.head_sha
        return JobSubject(f"{repo}:sha:{sha}", None, sha)
    if isinstance(event, CheckSuiteEvent):
        head = event.check_suite.head_sha
        return JobSubject(f"{repo}:sha:{head}", None, head)
    if isinstance(event, CheckRunEvent):
        head = event.check_run.check_suite.head_sha
        return JobSubject(f"{repo}:sha:{head}", None, head)
    if isinstance(event, DeploymentProtectionRuleEvent):
        deployed = _sha(event.deployment.sha if event.deployment else None)
        return JobSubject(f"{repo}:sha:{deployed}", None, deployed)
    return JobSubject(f"{repo}:repo", None, None)


def _sha(value: str | None) -> str | None:
    text = str(value or "")
    return text if text and set(text) != {"0"} else None
