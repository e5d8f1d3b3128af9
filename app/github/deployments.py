"""Answering a deployment protection rule: approve or reject a workflow run's deployment to an
environment through `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`.

The payload's `deployment_callback_url` is only read for the run id, after checking that it names
this repository's callback: the request itself goes to the configured API URL, so the
installation token is never sent to a host taken from a payload."""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urlsplit

from githubkit import GitHub

COMMENT_LIMIT = 1024  # shown in the deployment review; kept short
_CALLBACK = re.compile(
    r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/runs/(?P<run_id>[0-9]{1,20})"
    r"/deployment_protection_rule$"
)


class CallbackError(ValueError):
    """The callback URL is not this repository's deployment protection rule callback."""


def run_id_of(callback_url: str, owner: str, repo: str) -> int:
    """The workflow run id in a deployment callback URL of `owner/repo`."""
    match = _CALLBACK.search(urlsplit(callback_url).path)
    if match is None:
        raise CallbackError(f"not a deployment protection rule callback: {callback_url[:200]!r}")
    named = (match["owner"].lower(), match["repo"].lower())
    if named != (owner.lower(), repo.lower()):
        raise CallbackError(
            f"the callback names {match['owner']}/{match['repo']}, not {owner}/{repo}"
        )
    return int(match["run_id"])


async def review(
    gh: GitHub[Any],
    owner: str,
    repo: str,
    run_id: int,
    environment: str,
    state: str | None,
    comment: str,
) -> None:
    """Approve (`state="approved"`) or reject (`"rejected"`) the deployment, with `comment`;
    `state=None` only comments and leaves the deployment waiting."""
    data: dict[str, Any] = {"environment_name": environment, "comment": comment[:COMMENT_LIMIT]}
    if state is not None:
        data["state"] = state
    await gh.rest.actions.async_review_custom_gates_for_run(
        owner, repo, run_id, data=cast(Any, data)
    )
