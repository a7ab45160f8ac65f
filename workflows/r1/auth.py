"""OAuth2 client-credentials auth for R1, as an `httpx.Auth`.

`TokenManager`: one token per client, fetched lazily under a lock (so a burst
of callers triggers one token request), refreshed `margin` seconds before
expiry, or at half-life when the TTL is too short for that margin. The token is
held as a `SecretStr` so no repr ever shows it.

`R1Auth`: the auth flow httpx runs for every authenticated request: bearer
token, the MSP tenant header, and one refresh-and-resend after a 401 (the
token may have been revoked or expired early); a second 401 is the answer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx
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


MSP_HEADER = "x-rks-tenantid"


class R1Auth(httpx.Auth):
    """Bearer token + MSP tenant header + refresh once on 401 (httpx auth flow)."""

    def __init__(self, tokens: TokenManager, msp_tenant: str | None = None) -> None:
        self.tokens = tokens
        self.msp_tenant = msp_tenant

    def __repr__(self) -> str:
        return f"R1Auth(msp_tenant={self.msp_tenant!r})"

    async def _sign(self, request: httpx.Request) -> str:
        token = await self.tokens.get()
        request.headers["Authorization"] = f"Bearer {token}"
        if self.msp_tenant:
            request.headers[MSP_HEADER] = self.msp_tenant
        return token

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._sign(request)
        response = yield request
        if response.status_code == 401:
            self.tokens.invalidate(token)
            await self._sign(request)
            yield request

    def sync_auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        raise RuntimeError("R1Auth is async only")
