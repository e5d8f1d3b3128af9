"""Known vulnerabilities of a checkout's pinned dependencies, from OSV (https://osv.dev).

`stopship check --vulnerabilities` and the Action's `vulnerabilities` input: the lock files are
read (app/engine/lockfiles.py), their pins sent to OSV's batch API, the advisories' details
fetched, and the result handed to the engine as hits of SEC028 / SEC029. Answers are kept on
disk for a day. When OSV cannot be reached the audit goes on and says so in one line: the gate
is never decided by the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.engine.lockfiles import (
    MAX_LOCK_FILE_BYTES,
    LockedPackage,
    LockFileError,
    is_lock_file,
    locked_packages,
)
from app.engine.model import Hit, Severity
from app.engine.vulnerabilities import Advisory, PackageKey, advisory_from_osv, vulnerability_hits

OSV_URL = "https://api.osv.dev"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
BATCH_SIZE = 1000  # OSV's limit of queries per batch
MAX_PAGES = 5  # follow-up pages of one batch (a package with more than 1000 advisories)
MAX_BATCH_RESPONSE = 32 * 1024 * 1024
MAX_RECORD_RESPONSE = 4 * 1024 * 1024
MAX_PACKAGES = 20_000
CACHE_TTL_SECONDS = 24 * 3600
FETCHERS = 8


class OsvUnavailable(Exception):
    """OSV could not be asked or gave an answer we cannot use; str() says why, briefly."""


@dataclass
class VulnerabilityCheck:
    """What the engine receives: hits by lock-file path, and the notices for the report."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def check_vulnerabilities(
    root: Path,
    paths: Iterable[str],
    cache_dir: Path | None,
    *,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> VulnerabilityCheck:
    """Ask OSV about every package pinned in the lock files among `paths` (relative to `root`).
    Never raises for OSV's sake: an unreachable OSV is a notice, not an error."""
    check = VulnerabilityCheck()
    pins: dict[str, list[LockedPackage]] = {}
    for path in sorted(p for p in paths if is_lock_file(p)):
        try:
            pins[path] = _read_pins(root, path)
        except LockFileError as exc:
            check.notices.append(f"Lock file not checked for vulnerabilities: {exc}")
    keys = sorted({p.key for locked in pins.values() for p in locked})
    if not keys:
        return check
    if len(keys) > MAX_PACKAGES:
        check.notices.append(
            f"Dependencies not checked for vulnerabilities: {len(keys)} pinned packages, more"
            f" than the {MAX_PACKAGES} stopship asks OSV about"
        )
        return check
    url = (base_url or os.environ.get("STOPSHIP_OSV_URL") or OSV_URL).rstrip("/")
    cache = _AdvisoryCache(cache_dir / "osv" if cache_dir is not None else None)
    try:
        from app import __version__

        headers = {"User-Agent": f"stopship/{__version__} (+https://github.com/stopship/stopship)"}
        with httpx.Client(
            base_url=url, timeout=TIMEOUT, transport=transport, headers=headers
        ) as client:
            advisories = _advisories(client, keys, cache)
    except OsvUnavailable as exc:
        check.notices.append(
            f"Dependencies not checked for vulnerabilities: OSV unreachable ({exc})"
        )
        return check
    check.hits = vulnerability_hits(pins, advisories)
    check.notices.append(
        f"Dependencies checked for vulnerabilities (OSV): {len(keys)} pinned package(s) in"
        f" {len(pins)} lock file(s), {sum(len(h) for h in check.hits.values())} with a high or"
        " critical advisory"
    )
    return check


def _read_pins(root: Path, path: str) -> list[LockedPackage]:
    file = root / path
    try:
        if file.is_symlink() or file.stat().st_size > MAX_LOCK_FILE_BYTES:
            raise LockFileError(f"{path}: a link, or larger than {MAX_LOCK_FILE_BYTES} bytes")
        text = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockFileError(f"{path}: cannot be read ({type(exc).__name__})") from None
    return locked_packages(path, text)


def _advisories(
    client: httpx.Client, keys: list[PackageKey], cache: _AdvisoryCache
) -> dict[PackageKey, list[Advisory]]:
    found: dict[PackageKey, list[Advisory]] = {}
    missing = []
    for key in keys:
        kept = cache.get(key)
        if kept is None:
            missing.append(key)
        else:
            found[key] = kept
    ids_by_key: dict[PackageKey, list[str]] = {}
    for start in range(0, len(missing), BATCH_SIZE):
        ids_by_key.update(_query_batch(client, missing[start : start + BATCH_SIZE]))
    ids = sorted({i for found_ids in ids_by_key.values() for i in found_ids})
    with ThreadPoolExecutor(max_workers=FETCHERS) as pool:
        records = dict(zip(ids, pool.map(lambda i: _record(client, i), ids), strict=True))
    for key, vuln_ids in ids_by_key.items():
        package = LockedPackage(*key)
        advisories = [advisory_from_osv(records[i], package) for i in vuln_ids]
        found[key] = advisories
        cache.put(key, advisories)
    return found


def _query_batch(client: httpx.Client, keys: list[PackageKey]) -> dict[PackageKey, list[str]]:
    """The advisory ids OSV lists for each pinned package (following its pages)."""
    ids: dict[PackageKey, list[str]] = {key: [] for key in keys}
    pending: dict[PackageKey, str | None] = dict.fromkeys(keys)
    for _ in range(MAX_PAGES):
        if not pending:
            break
        queries = [_query(key, token) for key, token in pending.items()]
        body = _json(client, "POST", "/v1/querybatch", {"queries": queries}, MAX_BATCH_RESPONSE)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(queries):
            raise OsvUnavailable("the batch answer does not match the questions")
        following: dict[PackageKey, str | None] = {}
        for key, result in zip(pending, results, strict=True):
            result = result if isinstance(result, dict) else {}
            for vuln in result.get("vulns") or ():
                if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                    ids[key].append(vuln["id"])
            token = result.get("next_page_token")
            if isinstance(token, str) and token:
                following[key] = token
        pending = following
    return ids


def _query(key: PackageKey, page_token: str | None) -> dict[str, Any]:
    ecosystem, name, version = key
    query: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}, "version": version}
    if page_token:
        query["page_token"] = page_token
    return query


def _record(client: httpx.Client, vuln_id: str) -> dict[str, Any]:
    if not vuln_id.replace("-", "").replace(".", "").replace(":", "").isalnum():
        raise OsvUnavailable(f"an advisory id stopship does not ask about: {vuln_id[:40]!r}")
    body = _json(client, "GET", f"/v1/vulns/{vuln_id}", None, MAX_RECORD_RESPONSE)
    if not isinstance(body, dict):
        raise OsvUnavailable(f"advisory {vuln_id}: not a record")
    return body


def _json(
    client: httpx.Client, method: str, url: str, payload: Any, limit: int
) -> Any:
    try:
        with client.stream(method, url, json=payload) as response:
            if response.status_code != 200:
                raise OsvUnavailable(f"HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    raise OsvUnavailable(f"answer larger than {limit // (1024 * 1024)} MiB")
    except httpx.HTTPError as exc:
        raise OsvUnavailable(f"{type(exc).__name__}: {exc}"[:200]) from None
    try:
        return json.loads(data)
    except ValueError:
        raise OsvUnavailable("an answer that is not JSON") from None


class _AdvisoryCache:
    """The advisories of each pinned package, one small JSON file each, kept for a day (new
    advisories are published every day; a day-old answer is what a nightly scan would see)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _file(self, key: PackageKey) -> Path | None:
        if self.directory is None:
            return None
        digest = hashlib.sha256("\0".join(key).encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, key: PackageKey) -> list[Advisory] | None:
        file = self._file(key)
        if file is None:
            return None
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if time.time() - float(data["at"]) > CACHE_TTL_SECONDS or data["key"] != list(key):
                return None
            return [_advisory(item) for item in data["advisories"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, stale or damaged: asked again

    def put(self, key: PackageKey, advisories: list[Advisory]) -> None:
        file = self._file(key)
        if file is None:
            return
        data = {
            "at": time.time(),
            "key": list(key),
            "advisories": [
                {
                    "id": a.id,
                    "severity": a.severity.value if a.severity else None,
                    "aliases": list(a.aliases),
                    "fixed": list(a.fixed),
                }
                for a in advisories
            ],
        }
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            temporary = file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data), encoding="utf-8")
            temporary.replace(file)
        except OSError:
            return  # an unwritable cache: asked again next time


def _advisory(item: Mapping[str, Any]) -> Advisory:
    severity = item.get("severity")
    return Advisory(
        id=str(item["id"]),
        severity=Severity(severity) if severity else None,
        aliases=tuple(str(a) for a in item.get("aliases", ())),
        fixed=tuple(str(v) for v in item.get("fixed", ())),
    )
