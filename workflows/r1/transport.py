"""The one place R1 HTTP calls go through, in layers as httpx has them.

- **Auth** (`R1Auth`, an `httpx.Auth` given to the client): bearer token, MSP
  tenant header, one refresh-and-resend after a 401.
- **Meter** (`CallMeter`, `event_hooks=` given at construction): counts every
  attempt into the client's `R1Stats` and the caller's scope (`metering()`).
- **Rate limit** (`engine.limits.RateLimiter`, keyed by service family): waits
  before each attempt (the wait is metered); a 429 halves that family's rate
  (AIMD, Retry-After honoured). `shared_limiter(config, redis, tenant)` is one
  per tenant shared by every worker through Redis (what `app.runtime` gives the
  client); `documented_limiter(config)` is this process's own. Both start from
  R1's documented limits.
- **Retries** (here, `send`), one owner per failure:
  * always here: a 429 (wait, resend) and a failure before the request left
    (connect error, pool timeout): R1 never saw it;
  * 5xx, 408, read timeouts, dropped connections (ambiguous: R1 may have acted):
    for an idempotent call (reads, queries, PUT, DELETE) here, up to
    `RetryPolicy.attempts` tries when no caller retries (plan-time reads, audit,
    scripts) and `RetryPolicy.in_phase_attempts` inside an engine phase or the
    poller (`metering(caller_retries=True)`): repeating them is safe and keeps a
    phase of many calls from failing on one blip. A create (POST) raises at once
    there, and the phase re-runs: its find-then-create sees a write that landed.
  Bound per call: `RetryPolicy.attempts` tries (+1 resend after a 401). Bound per
  cell for a call that keeps failing: `in_phase_attempts` x the engine's
  `max_attempts` for an idempotent call (3 x 5 = 15; was 6 x 5 = 30), `max_attempts`
  for a create; 429s are waits, bounded by time in the engine.

Logs name the route template, status and timing only: never headers, form or
multipart bodies; JSON bodies are logged at DEBUG with secret-looking keys
redacted.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Container, Mapping
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from engine.lease import check_lease
from engine.limits import KeyedLimiter, NoRateLimit, RateLimiter
from engine.tenant_limit import SharedLimiter
from workflows.r1.auth import MSP_HEADER, R1Auth, TokenManager
from workflows.r1.config import R1Config
from workflows.r1.errors import (
    R1AuthError,
    R1Error,
    R1RateLimited,
    R1TransientError,
    error_for_status,
)
from workflows.r1.meter import ROUTE, CallMeter, R1Stats, caller_retries, retry_idempotent
from workflows.r1.models import Accepted
from workflows.r1.services import family_of

__all__ = [
    "MSP_HEADER",
    "R1Stats",
    "R1Transport",
    "documented_limiter",
    "expand",
    "redact",
    "shared_limiter",
]

log = logging.getLogger("phasegrid.r1")

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request left: always safe to retry."""

Sleep = Callable[[float], Awaitable[None]]
TOKEN_ROUTE = "/oauth2/token/{tenantId}"
_SECRET_KEY = re.compile(r"pass(word|phrase)|secret|token|authorization|psk", re.IGNORECASE)
REDACTED = "***"


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with secret-looking keys' values masked."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def expand(route: str, path: Mapping[str, Any] | None) -> str:
    """Fill a route template, URL-quoting each value (serials, names, ids)."""
    if not path:
        return route
    return route.format(**{k: quote(str(v), safe="") for k, v in path.items()})


def documented_limiter(
    config: R1Config,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep | None = None,
) -> KeyedLimiter:
    """An in-process AIMD limiter per service family, from the documented limits."""
    limits, default = config.family_limits()
    return KeyedLimiter(
        limits, default, recovery=config.scaled(30.0), clock=clock, sleep=sleep or anyio.sleep
    )


def shared_limiter(
    config: R1Config, redis: Any, tenant: str, *, prefix: str = "pg", ttl: float = 24 * 3600.0
) -> SharedLimiter:
    """The tenant's limiter shared through Redis, from the documented limits (paced
    by `documented_limiter` while Redis is unreachable); its state is kept `ttl`
    seconds after the last call."""
    limits, default = config.family_limits()
    return SharedLimiter(
        redis, tenant, limits, default, prefix=prefix, recovery=config.scaled(30.0),
        window=config.scaled(2.0), ttl=ttl, fallback=documented_limiter(config),
    )  # fmt: skip


async def _lease_held(request: httpx.Request) -> None:
    """No write leaves for a job whose lease may have lapsed (`engine.lease`)."""
    if request.method != "GET" and not request.url.path.endswith("/query"):
        check_lease()


class R1Transport:
    """HTTP core shared by every resource mixin; use as an async context manager."""

    def __init__(
        self,
        config: R1Config,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        seed: int | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
        attempt_timeout: float | None = 120.0,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.config = config
        self.rng = rng or random.Random(seed)
        self.sleep: Sleep = sleep or anyio.sleep
        self.limiter: RateLimiter = rate_limiter or NoRateLimit()
        """Bring one: `shared_limiter(...)` (what `app.runtime` gives the client) or
        `documented_limiter(config)`; none means the server's 429s alone pace us."""
        self.meter = CallMeter()
        self.stats: R1Stats = self.meter.stats
        self.attempt_timeout = attempt_timeout
        """Overall cap per attempt: httpx timeouts do not apply to in-process ASGI."""
        self.tokens = TokenManager(self._fetch_token, margin=config.refresh_margin, clock=clock)
        hooks = self.meter.hooks
        hooks["request"].insert(0, _lease_held)  # right before the request leaves
        for name, extra in (event_hooks or {}).items():
            hooks.setdefault(name, []).extend(extra)
        self.http = httpx.AsyncClient(
            base_url=config.api_base,
            transport=transport,
            auth=R1Auth(self.tokens, config.msp_customer_tenant),
            event_hooks=hooks,
            timeout=config.timeouts.to_httpx(),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_keepalive_connections,
            ),
            headers={"Accept": "application/json", "User-Agent": "phasegrid-r1/0.1"},
            follow_redirects=False,
        )

    @property
    def auth(self) -> TokenManager:
        """The token cache (kept under its old name for callers and tests)."""
        return self.tokens

    def __repr__(self) -> str:
        c = self.config
        return f"{type(self).__name__}(base_url={c.api_base!r}, tenant_id={c.tenant_id!r})"

    async def __aenter__(self) -> R1Transport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- auth ----------------------------------------------------------------

    async def _fetch_token(self) -> tuple[str, float]:
        cfg = self.config
        form = {
            "grant_type": "client_credentials",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret.get_secret_value(),
        }
        resp = await self.send(
            "POST", TOKEN_ROUTE, path={"tenantId": cfg.tenant_id}, data=form, authenticated=False
        )
        try:
            body = resp.json()
            return str(body["access_token"]), float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise R1AuthError(
                "token endpoint answered without an access_token", status=resp.status_code
            ) from None

    # -- sending -------------------------------------------------------------

    async def send(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, Any] | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        authenticated: bool = True,
        accept: Container[int] = (),
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; return the 2xx response (or one whose status is in
        `accept`, e.g. 404 for "not yet") or raise a typed `R1Error`.

        `idempotent` (default: every method but POST, and POST `.../query`)
        decides whether ambiguous failures (5xx, timeouts, drops) are retried.
        """
        key = f"{method} {route}"
        family = family_of(key)
        url = expand(route, path)
        policy = self.config.retry
        if idempotent is None:
            idempotent = method != "POST" or route.endswith("/query") or not authenticated
        in_phase = caller_retries()
        if in_phase:
            ambiguous_here = idempotent and retry_idempotent()
        else:
            ambiguous_here = idempotent or policy.retry_unsafe_writes
        ambiguous_limit = policy.in_phase_attempts if in_phase else policy.attempts
        attempt = ambiguous = 0
        if json is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("%s body %s", key, redact(json))
        while True:
            attempt += 1
            asked = time.monotonic()
            await self.limiter.acquire(key=family)
            started = time.monotonic()
            self.meter.waited(started - asked)
            try:
                with anyio.fail_after(self.attempt_timeout):
                    resp = await self.http.request(
                        method, url, json=json, params=params, data=data, files=files,
                        auth=httpx.USE_CLIENT_DEFAULT if authenticated else None,
                        extensions={ROUTE: key},
                    )  # fmt: skip
            except (httpx.TransportError, TimeoutError) as exc:
                self.stats.network_errors += 1
                kind = (
                    "timeout"
                    if isinstance(exc, httpx.TimeoutException | TimeoutError)
                    else "network error"
                )
                err: R1Error = R1TransientError(f"{kind} on {key} ({type(exc).__name__})")
                log.debug("%s -> %s (attempt %d)", key, kind, attempt)
                if not isinstance(exc, _NOT_SENT):
                    ambiguous += 1
                    if not ambiguous_here or ambiguous >= ambiguous_limit:
                        self.stats.failures += 1
                        raise err from None
            else:
                status = resp.status_code
                log.debug(
                    "%s -> %d (%.0f ms, attempt %d)",
                    key,
                    status,
                    (time.monotonic() - started) * 1000,
                    attempt,
                )
                if status < 300 or status in accept:
                    return resp
                err = self._error(resp, key)
                if isinstance(err, R1RateLimited):
                    pause = None if err.retry_after is None else self.config.scaled(err.retry_after)
                    pending = self.limiter.penalize(pause, key=family)  # ours; R1 said R1's
                    if pending is not None:  # a shared limiter tells Redis
                        await pending
                elif (
                    not isinstance(err, R1TransientError)
                    or not ambiguous_here
                    or (ambiguous := ambiguous + 1) >= ambiguous_limit
                ):
                    self.stats.failures += 1
                    if not authenticated and not isinstance(err, R1TransientError):
                        raise R1AuthError(
                            "token request rejected: check client id/secret",
                            status=status,
                            code=err.code,
                        ) from None
                    raise err
            if attempt >= policy.attempts:
                self.stats.failures += 1
                raise err
            self.stats.retries += 1
            retry_after = getattr(err, "retry_after", None)
            # the policy and Retry-After are in R1 seconds: a scaled simulator's too
            await self.sleep(self.config.scaled(policy.delay(attempt, self.rng, retry_after)))

    def _error(self, resp: httpx.Response, key: str) -> R1Error:
        try:
            payload: Any = resp.json()
        except ValueError:
            payload = resp.text[:500] if resp.text else None
        if key.endswith(TOKEN_ROUTE):
            payload = None  # never echo anything the token endpoint says about credentials
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return error_for_status(resp.status_code, payload, retry_after=retry_after, context=key)

    async def write(self, method: str, route: str, **kwargs: Any) -> Accepted:
        """A write: 202 (or 200/201/204) -> `Accepted` with requestId and new id."""
        resp = await self.send(method, route, **kwargs)
        body: Any = None
        if resp.content:
            try:
                body = resp.json()
            except ValueError:
                body = None
        return Accepted.from_response(resp.status_code, body)

    async def send_json(self, method: str, route: str, **kwargs: Any) -> Any:
        """`send`, then the decoded JSON body (None for an empty body)."""
        resp = await self.send(method, route, **kwargs)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return None
