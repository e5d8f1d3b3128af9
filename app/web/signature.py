"""`X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body, fed chunk by chunk as the body
arrives, compared in constant time against every configured secret (several during a rotation)."""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "sha256="
# GitHub's header: the prefix and 64 lowercase hex digits. Anything else is refused before a byte
# of the body is read (its shape says nothing about the secrets).
_WELL_FORMED = re.compile(r"^sha256=[0-9a-f]{64}\Z")


def sign(body: bytes, secret: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def well_formed(header: str | None) -> bool:
    """Whether `header` has the shape of a signature (checked before reading the body)."""
    return header is not None and _WELL_FORMED.match(header) is not None


class SignatureCheck:
    """The HMAC of a body under every secret, updated as chunks arrive, so that checking a
    signature never needs the body whole."""

    def __init__(self, header: str | None, secrets: list[bytes]) -> None:
        self._given = header.encode("ascii") if well_formed(header) and header else b""
        self._macs = [hmac.new(secret, digestmod=hashlib.sha256) for secret in secrets]

    def update(self, chunk: bytes) -> None:
        for mac in self._macs:
            mac.update(chunk)

    def matches(self) -> bool:
        """True when the body fed so far is signed with one of the secrets. Every secret is
        compared, in constant time, whatever the outcome: the time taken says neither how much
        of the signature was right nor which secret matched."""
        matched = False
        for mac in self._macs:
            expected = (PREFIX + mac.hexdigest()).encode("ascii")
            matched |= hmac.compare_digest(expected, self._given)
        return matched and bool(self._given)


def verify(body: bytes, header: str | None, secrets: list[bytes]) -> bool:
    """`body` whole, signed with one of `secrets` (see `SignatureCheck`)."""
    check = SignatureCheck(header, secrets)
    check.update(body)
    return check.matches()
