"""The repository's open Dependabot alerts (GitHub's REST API; the App asks for *Dependabot
alerts: read*), as neutral records the engine turns into findings
(app/engine/vulnerable_dependencies.py). Only high and critical alerts are read, a bounded
number of pages."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.engine.vulnerable_dependencies import VulnerableDependency

PER_PAGE = 100
MAX_PAGES = 5  # 500 open high or critical alerts: more are not read (the report says how many)


class AlertsUnreadable(Exception):
    """The App may not read the alerts (403: no permission, or Dependabot alerts are off; 404)."""


def _text(value: Any, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def dependency_of(alert: dict[str, Any]) -> VulnerableDependency | None:
    """One alert as a record; None when it names no manifest or package."""
    dependency = alert.get("dependency") or {}
    package = dependency.get("package") or {}
    advisory = alert.get("security_advisory") or {}
    vulnerability = alert.get("security_vulnerability") or {}
    manifest, name = _text(dependency.get("manifest_path"), 500), _text(package.get("name"))
    if not manifest or not name:
        return None
    ids = [_text(advisory.get("ghsa_id")), _text(advisory.get("cve_id"))]
    patched = vulnerability.get("first_patched_version") or {}
    return VulnerableDependency(
        manifest=manifest,
        package=name,
        ecosystem=_text(package.get("ecosystem")),
        severity=_text(vulnerability.get("severity") or advisory.get("severity")).lower(),
        advisories=tuple(i for i in ids if i),
        fixed_version=_text(patched.get("identifier")) or None,
        summary=_text(advisory.get("summary"), 300),
    )


def _next_cursor(link: str) -> str | None:
    """The `after` cursor of the Link header's `rel="next"` page (GitHub pages alerts by
    cursor), or None on the last page."""
    for part in link.split(","):
        target, _, relation = part.partition(";")
        if 'rel="next"' not in relation:
            continue
        query = parse_qs(urlsplit(target.strip().strip("<>")).query)
        cursor = query.get("after")
        return cursor[0] if cursor else None
    return None


async def open_alerts(gh: GitHub[Any], owner: str, name: str) -> list[VulnerableDependency]:
    """The open high and critical alerts (MAX_PAGES pages at most); raises AlertsUnreadable on
    403 or 404."""
    found: list[VulnerableDependency] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        extra: dict[str, Any] = {"after": cursor} if cursor else {}
        try:
            response = await gh.rest.dependabot.async_list_alerts_for_repo(
                owner, name, state="open", severity="high,critical", per_page=PER_PAGE, **extra
            )
        except RequestFailed as exc:
            if exc.response.status_code in (403, 404):
                raise AlertsUnreadable(str(exc.response.status_code)) from None
            raise
        alerts = cast(list[dict[str, Any]], response.json())
        if not isinstance(alerts, list):
            break
        found += [d for a in alerts if isinstance(a, dict) and (d := dependency_of(a))]
        cursor = _next_cursor(response.headers.get("link", ""))
        if cursor is None:
            break
    return found
