"""The App's webhook deliveries as GitHub recorded them (`GET /app/hook/deliveries`, newest first,
paged with a cursor) and asking for one again (`POST /app/hook/deliveries/{id}/attempts`). Both
authenticate as the App (its JWT), not as an installation. Every list is read a bounded number
of pages, and each item is checked before it is used."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime
from typing import Any

import httpx
import structlog
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from pydantic import BaseModel, ValidationError

log = structlog.get_logger()

PER_PAGE = 100  # GitHub's largest page
# GitHub's GUID, as the webhook route accepts it in X-GitHub-Delivery
_GUID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class HookDelivery(BaseModel):
    """One attempt to deliver an event (a redelivery is another attempt with the same guid)."""

    id: int
    guid: str
    delivered_at: datetime
    status_code: int
    event: str
    redelivery: bool = False

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300


def _next_cursor(link_header: str | None) -> str | None:
    """The `cursor` of the Link header's `rel="next"` URL, if there is a next page."""
    if not link_header:
        return None
    for link in httpx.Response(200, headers={"link": link_header}).links.values():
        if link.get("rel") == "next":
            cursor = httpx.URL(str(link.get("url", ""))).params.get("cursor")
            return str(cursor) if cursor else None
    return None


def _valid(raw: Any) -> HookDelivery | None:
    try:
        item = HookDelivery.model_validate(raw)
    except ValidationError:
        return None
    if not _GUID.match(item.guid) or len(item.event) > 64:
        return None
    return item


async def recent_deliveries(
    gh: GitHub[AppAuthStrategy],
    since: datetime,
    max_pages: int,
    per_page: int = PER_PAGE,
    deadline: float = math.inf,
) -> tuple[list[HookDelivery], int]:
    """The attempts delivered at `since` or later (newest first), read until an older one, the
    last page, `max_pages` pages or the `deadline` (time.monotonic()); and how many listed items
    were unreadable (skipped)."""
    found: list[HookDelivery] = []
    skipped = 0
    cursor: str | None = None
    for page in range(max_pages):
        if page and time.monotonic() > deadline:
            break
        if cursor is None:
            response = await gh.rest.apps.async_list_webhook_deliveries(per_page=per_page)
        else:
            response = await gh.rest.apps.async_list_webhook_deliveries(
                per_page=per_page, cursor=cursor
            )
        items = response.json()
        if not isinstance(items, list):
            break
        older = False
        for raw in items:
            item = _valid(raw)
            if item is None:
                skipped += 1
            elif item.delivered_at < since:
                older = True
            else:
                found.append(item)
        cursor = _next_cursor(response.headers.get("link"))
        if older or cursor is None or not items:
            break
    return found, skipped


async def ask_redelivery(gh: GitHub[AppAuthStrategy], hook_delivery_id: int) -> str:
    """Ask GitHub to deliver attempt `hook_delivery_id`'s event again: `accepted`, or `refused`
    (GitHub answered 4xx: asking again would not help). Other failures raise."""
    try:
        await gh.rest.apps.async_redeliver_webhook_delivery(hook_delivery_id)
    except (PrimaryRateLimitExceeded, SecondaryRateLimitExceeded):
        raise  # not a refusal: the quota comes back
    except RequestFailed as exc:
        status = exc.response.status_code
        if 400 <= status < 500 and status != 429:
            log.warning("redelivery refused", hook_delivery_id=hook_delivery_id, status=status)
            return "refused"
        raise
    return "accepted"
