"""Pull request conversation I/O for comment commands: the bot's replies (found again by their
HTML marker and edited in place instead of posting duplicates, as bedevere does), a reaction on
the command, and the commenter's permission on the repository."""

from __future__ import annotations

import re
from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.render.markdown import truncate

COMMENT_LIMIT = 65_536  # GitHub refuses longer comment bodies
PAGE = 100
MAX_PAGES = 10  # a conversation of over 1,000 comments gets a fresh reply instead
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


def marker(kind: str) -> str:
    """The HTML comment that starts every reply of one kind (`score`, `help`, ...)."""
    return f"<!-- stopship:{kind} -->"


async def earlier_reply(
    gh: GitHub[Any], owner: str, repo: str, number: int, kind: str
) -> int | None:
    """The id of the newest bot comment on the conversation that starts with `kind`'s marker."""
    wanted = marker(kind)
    found: int | None = None
    for page in range(1, MAX_PAGES + 1):
        response = await gh.rest.issues.async_list_comments(
            owner, repo, number, per_page=PAGE, page=page
        )
        comments = cast(list[Any], response.parsed_data)  # mypy cannot see the list type
        for comment in comments:
            user = comment.user
            if user is not None and user.type == "Bot" and (comment.body or "").startswith(wanted):
                found = comment.id
        if len(comments) < PAGE:
            break
    return found


async def reply(
    gh: GitHub[Any], owner: str, repo: str, number: int, kind: str, body: str
) -> tuple[int, bool]:
    """Post `body` (cut to GitHub's limit, marked with `kind`), or edit the bot's earlier reply
    of that kind. Returns the comment id and whether it was newly created."""
    text = truncate(f"{marker(kind)}\n{body}", COMMENT_LIMIT)
    existing = await earlier_reply(gh, owner, repo, number, kind)
    if existing is not None:
        await gh.rest.issues.async_update_comment(
            owner, repo, existing, data=cast(Any, {"body": text})
        )
        return existing, False
    response = await gh.rest.issues.async_create_comment(
        owner, repo, number, data=cast(Any, {"body": text})
    )
    return int(response.parsed_data.id), True


async def react(gh: GitHub[Any], owner: str, repo: str, comment_id: int, content: str) -> None:
    """Add a reaction (`eyes`, `+1`, `confused`, ...) to a comment."""
    await gh.rest.reactions.async_create_for_issue_comment(
        owner, repo, comment_id, data=cast(Any, {"content": content})
    )


async def can_write(gh: GitHub[Any], owner: str, repo: str, login: str) -> bool:
    """Whether `login` has write, maintain or admin permission on the repository, as GitHub
    says now (a payload's `author_association` is not a permission)."""
    if not LOGIN.match(login):
        return False
    try:
        response = await gh.rest.repos.async_get_collaborator_permission_level(owner, repo, login)
    except RequestFailed as exc:
        if exc.response.status_code == 404:  # not a collaborator
            return False
        raise
    data = response.parsed_data
    return data.permission in WRITE_PERMISSIONS or (data.role_name or "") in WRITE_PERMISSIONS
