"""`X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body, compared in constant time
against every configured secret (several during a rotation)."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secrets: list[bytes]) -> bool:
    if not header or not header.startswith(PREFIX) or not secrets:
        return False
    given = header.encode("ascii", errors="replace")
    matched = False
    for secret in secrets:  # no early exit: the time taken does not say which secret matched
        matched |= hmac.compare_digest(sign(body, secret).encode(), given)
    return matched
