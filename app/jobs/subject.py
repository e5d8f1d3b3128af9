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
from typing import Any


@dataclass(frozen=True)
class JobSubject:
    lock: str | None
    supersede: str | None
    sha: str | None


NONE = JobSubject(None, None, None)


def job_subject(event: str, payload: dict[str, Any]) -> JobSubject:
    """The subject of one delivery (from the fields of its payload that GitHub always sends)."""
    repo = (payload.get("repository") or {}).get("id")
    if not isinstance(repo, int):
        return NONE
    if event == "push":
        ref = str(payload.get("ref") or "")
        key = f"{repo}:ref:{ref}"
        return JobSubject(key, key, _sha(payload.get("after")))
    if event == "pull_request":
        pr = payload.get("pull_request") or {}
        key = f"{repo}:pr:{pr.get('number')}"
        return JobSubject(key, key, _sha((pr.get("head") or {}).get("sha")))
    if event == "issue_comment":
        issue = payload.get("issue") or {}
        if issue.get("pull_request"):  # comments on pull requests share the PR's lock
            return JobSubject(f"{repo}:pr:{issue.get('number')}", None, None)
        return JobSubject(f"{repo}:issue:{issue.get('number')}", None, None)
    if event == "merge_group":
        group = payload.get("merge_group") or {}
        sha = _sha(group.get("head_sha"))
        return JobSubject(f"{repo}:sha:{sha}", None, sha)
    if event in {"check_suite", "check_run"}:
        suite = payload.get("check_suite") or (payload.get("check_run") or {}).get("check_suite")
        sha = _sha((suite or {}).get("head_sha"))
        return JobSubject(f"{repo}:sha:{sha}", None, sha)
    if event == "deployment_protection_rule":
        deployment = payload.get("deployment") or {}
        sha = _sha(deployment.get("sha"))
        return JobSubject(f"{repo}:sha:{sha}", None, sha)
    return JobSubject(f"{repo}:repo", None, None)


def _sha(value: Any) -> str | None:
    text = str(value or "")
    return text if text and set(text) != {"0"} else None
