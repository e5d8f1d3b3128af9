"""githubkit clients for the App and its installations.

Each App client gets its own token cache (githubkit's default cache is process-wide and keyed by
app and installation only), explicit timeouts, no HTTP cache, and a bounded retry policy: rate
limits are honoured (Retry-After / x-ratelimit-reset) only while the wait is short, server errors
are retried a few times, and nothing ever sleeps inside a request for an hour. Inside a job
(`rate_limit.job_budget()`), rate-limit waits are shared by every request of the job and bounded
in total (see app/github/rate_limit.py).
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from githubkit.typing import RetryOption

from app import metrics
from app.github import rate_limit

MAX_ATTEMPTS = 3
MAX_RATE_LIMIT_WAIT = timedelta(seconds=60)
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# githubkit sleeps a minute for a zero wait; the budget's request hook sleeps the real wait
_NEXT_TICK = timedelta(milliseconds=1)


def retry_policy(exc: GitHubException, attempt: int) -> RetryOption:
    """At most MAX_ATTEMPTS tries; rate-limit waits over a minute are not waited for (inside a
    job: not beyond the job's remaining budget; the request hook does the waiting)."""
    if attempt + 1 >= MAX_ATTEMPTS:  # `attempt` counts the retries already made
        return RetryOption(False)
    if isinstance(exc, PrimaryRateLimitExceeded | SecondaryRateLimitExceeded):
        wait = exc.retry_after
        budget = rate_limit.current_budget()
        if budget is not None:
            allowed = budget.block(datetime.now(UTC) + wait)
            return RetryOption(allowed, _NEXT_TICK)
        return RetryOption(wait <= MAX_RATE_LIMIT_WAIT, min(wait, MAX_RATE_LIMIT_WAIT))
    if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
        return RetryOption(True, timedelta(seconds=0.5 * (2**attempt)))
    return RetryOption(False)


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle takes tens of milliseconds,
    and every HTTP client githubkit opens (one per job, or per request outside a job) needs it."""
    return ssl.create_default_context()


def app_client(
    app_id: int, private_key: str, api_url: str, tokens: BaseCacheStrategy | None = None
) -> GitHub[AppAuthStrategy]:
    """The App's client; `tokens` caches its JWT and installation tokens (this process's memory
    by default; `SharedTokenCache` shares them between processes)."""
    return GitHub(
        AppAuthStrategy(app_id, private_key),
        base_url=api_url.rstrip("/") + "/",
        timeout=TIMEOUT,
        cache_strategy=tokens or MemCacheStrategy(),
        http_cache=False,
        ssl_verify=tls_context(),
        auto_retry=retry_policy,
        user_agent="stopship",
        async_event_hooks={
            "request": [rate_limit.before_request],
            "response": [rate_limit.after_response, metrics.github_response],
        },
    )


def installation_client(app: GitHub[AppAuthStrategy], installation_id: int) -> GitHub:  # type: ignore[type-arg]
    """A client acting as one installation (its token is cached until shortly before expiry)."""
    return app.with_auth(app.auth.as_installation(installation_id))
