"""githubkit's token cache shared through the database: with several workers, each installation
token is asked of GitHub once and reused by every process until shortly before it expires
(githubkit decides the lifetime), instead of once per process.

A process keeps what it read in memory (githubkit's own cache) and falls back to the database.
Values are encrypted (Fernet) with a key derived from the App's private key, and keys are
digests: a copy of the database holds no usable token, and only processes that could mint a
token themselves can read one. An entry that does not decrypt (another App's key, a rotated key)
is a miss, and the fresh token replaces it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from githubkit.cache import MemCacheStrategy
from githubkit.cache.base import AsyncBaseCache
from githubkit.cache.mem_cache import MemCache
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.models import GitHubToken


def _fernet(private_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"stopship github token cache"
    ).derive(private_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class _SharedCache(AsyncBaseCache):
    def __init__(
        self, memory: MemCache, sessions: async_sessionmaker[AsyncSession], fernet: Fernet
    ) -> None:
        self._memory = memory
        self._sessions = sessions
        self._fernet = fernet

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    async def aget(self, key: str) -> str | None:
        value = self._memory.get(key)
        if value is not None:
            return value
        async with self._sessions() as session:
            row = await session.get(GitHubToken, self._digest(key))
        if row is None:
            return None
        # SQLite gives the stored UTC time back naive, PostgreSQL aware
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if expires <= now:
            return None
        try:
            value = self._fernet.decrypt(row.value.encode()).decode()
        except InvalidToken:
            return None
        self._memory.set(key, value, expires - now)
        return value

    async def aset(self, key: str, value: str, ex: timedelta) -> None:
        self._memory.set(key, value, ex)
        now = datetime.now(UTC)
        encrypted = self._fernet.encrypt(value.encode()).decode()
        async with self._sessions() as session:
            await session.execute(delete(GitHubToken).where(GitHubToken.expires_at <= now))
            await session.merge(
                GitHubToken(key=self._digest(key), value=encrypted, expires_at=now + ex)
            )
            try:
                await session.commit()
            except IntegrityError:  # another process stored its token first: as good as ours
                await session.rollback()


class SharedTokenCache(MemCacheStrategy):
    """githubkit's in-memory strategy, with its token storage backed by the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], private_key: str) -> None:
        super().__init__()
        self._shared = _SharedCache(self.get_cache_storage(), sessions, _fernet(private_key))

    async def get_async_cache_storage(self) -> _SharedCache:  # type: ignore[override]
        return self._shared
