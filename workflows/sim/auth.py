"""OAuth2 client-credentials tokens with an expiry on the simulator's clock."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(slots=True)
class Token:
    tenant_id: str
    expires_at: float


class TokenIssuer:
    def __init__(
        self, tenant_id: str, client_id: str, client_secret: str, ttl: float, rng: random.Random
    ) -> None:
        self.tenant_id = tenant_id
        self._client_id = client_id
        self._client_secret = client_secret
        self.ttl = ttl
        self._rng = rng
        self._tokens: dict[str, Token] = {}
        self.issued = 0

    def credentials_ok(self, tenant_id: str, client_id: str, client_secret: str) -> bool:
        return (tenant_id, client_id, client_secret) == (
            self.tenant_id,
            self._client_id,
            self._client_secret,
        )

    def issue(self, now: float) -> tuple[str, int]:
        """A new bearer token and its lifetime in whole seconds."""
        self._purge(now)
        token = f"sim.{self._rng.getrandbits(160):040x}"
        self._tokens[token] = Token(self.tenant_id, now + self.ttl)
        self.issued += 1
        return token, int(self.ttl)

    def check(self, authorization: str | None, now: float) -> Token | None:
        """The token's record if the header carries a live token, else None."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = self._tokens.get(value.strip())
        if token is None or now >= token.expires_at:
            return None
        return token

    def revoke_all(self) -> None:
        """Invalidate every token (tests use it to force a 401 and a refresh)."""
        self._tokens.clear()

    def _purge(self, now: float) -> None:
        if len(self._tokens) > 1000:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
