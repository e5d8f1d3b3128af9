"""GitHub's answers that change rarely (a branch's rules, a repository's Dependabot alerts), kept
a few minutes by this process per key, at most a bounded number of them: every push would
otherwise ask again, within the job's request budget."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class KeptAnswers(Generic[T]):
    """Answers kept `ttl` seconds per key (the newest `size` of them)."""

    def __init__(self, ttl: float = 300.0, size: int = 256) -> None:
        self.ttl = ttl
        self.size = size
        self._kept: OrderedDict[str, tuple[float, T]] = OrderedDict()

    async def get(self, key: str, ask: Callable[[], Awaitable[T]]) -> T:
        """The answer kept for `key` if it is younger than `ttl`, else `ask()`'s (then kept; an
        exception is not)."""
        kept = self._kept.get(key)
        now = time.monotonic()
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        found = await ask()
        self._kept[key] = (now, found)
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return found
