"""OAuth2 client-credentials token cache for R1.

One token per client, fetched lazily under a lock (so a burst of callers
triggers one token request), refreshed `margin` seconds before expiry, or at
half-life when the TTL is too short for that margin. The token is held as a
`SecretStr` so no repr ever shows it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from pydantic import SecretStr

TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]
"""Returns (access_token, expires_in seconds)."""


@dataclass(frozen=True, repr=False)
class Token:
    value: SecretStr
    fetched_at: float
    expires_at: float
    refresh_at: float

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at:.1f}, refresh_at={self.refresh_at:.1f})"


def refresh_time(fetched_at: float, ttl: float, margin: float) -> float:
    """`margin` before expiry, but never earlier than half-life."""
    return fetched_at + max(ttl - margin, ttl / 2)


class TokenManager:
    """Hands out a valid bearer token; `invalidate` after a 401 forces a refresh."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._token: Token | None = None
        self._lock = anyio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenManager(token={self._token!r}, fetches={self.fetches})"

    @property
    def current(self) -> Token | None:
        return self._token

    def _fresh(self) -> Token | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token
        return None

    async def get(self) -> str:
        """A token valid for a while yet (fetching one if needed)."""
        token = self._fresh()
        if token is None:
            async with self._lock:
                token = self._fresh()  # another caller may have refreshed it meanwhile
                if token is None:
                    token = await self._refresh()
        return token.value.get_secret_value()

    async def _refresh(self) -> Token:
        value, ttl = await self._fetch()
        now = self._clock()
        ttl = max(float(ttl), 1.0)
        self.fetches += 1
        self._token = Token(
            value=SecretStr(value),
            fetched_at=now,
            expires_at=now + ttl,
            refresh_at=refresh_time(now, ttl, self._margin),
        )
        return self._token

    def invalidate(self, value: str) -> None:
        """Drop the token if it is still the one the server just rejected."""
        if self._token is not None and self._token.value.get_secret_value() == value:
            self._token = None
