"""The one call meter: httpx event hooks that count every HTTP attempt.

`CallMeter` is handed to the httpx client at construction (`event_hooks=`).
Each attempt it sees is counted once, into the client-wide `R1Stats` and into
the `Tally` of the scope open in the calling task (`metering()`), if any. A
phase's calls, the activity poller's and the passphrase batcher's are such
scopes: they read this meter instead of counting calls themselves.

A scope also says who retries ambiguous failures (5xx, timeouts, drops) of the
calls made inside it: the transport (default) or the caller (an engine phase,
which re-runs the phase; the poller, which polls again). See `R1Transport`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx

ROUTE = "phasegrid.route"
"""Request extension carrying "METHOD /route/{template}" for the meter."""


@dataclass
class R1Stats:
    """Client-wide counters (the job reports "API calls and 429s" from scopes)."""

    calls: Counter[str] = field(default_factory=Counter)
    """Attempts sent, keyed "METHOD /route/{template}"."""
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    retries: int = 0
    network_errors: int = 0
    failures: int = 0
    """Calls that raised after their last attempt (or a permanent error)."""
    limiter_waits: int = 0
    limiter_wait_s: float = 0.0
    """Attempts held back by the tenant rate limiter, and the time they waited."""

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            "total_calls": self.total_calls,
            "calls": dict(self.calls),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "rate_limited": self.rate_limited,
            "retries": self.retries,
            "network_errors": self.network_errors,
            "failures": self.failures,
            "limiter_waits": self.limiter_waits,
            "limiter_wait_s": round(self.limiter_wait_s, 3),
        }


@dataclass
class Tally:
    """One scope's share of the meter."""

    calls: int = 0
    rate_limited: int = 0
    routes: Counter[str] = field(default_factory=Counter)
    limiter_wait: float = 0.0
    """Seconds this scope's calls waited on the tenant rate limiter."""


@dataclass(frozen=True)
class Scope:
    tally: Tally
    caller_retries: bool
    """True: the caller re-runs failed calls; the transport retries only what never
    reached R1 (connect errors), 429s, and idempotent calls a few times."""
    retry_idempotent: bool = True
    """False: not even idempotent calls (the poller polls again anyway)."""


_scope: ContextVar[Scope | None] = ContextVar("phasegrid_r1_scope", default=None)


@contextmanager
def metering(*, caller_retries: bool = False, retry_idempotent: bool = True) -> Iterator[Tally]:
    """Count this task's R1 calls (and its children's) into a fresh `Tally`.

    Replaces any enclosing scope: a poller started from a phase's task does not
    count into that phase."""
    tally = Tally()
    token = _scope.set(Scope(tally, caller_retries, retry_idempotent))
    try:
        yield tally
    finally:
        _scope.reset(token)


def caller_retries() -> bool:
    scope = _scope.get()
    return scope is not None and scope.caller_retries


def retry_idempotent() -> bool:
    scope = _scope.get()
    return scope is None or scope.retry_idempotent


class CallMeter:
    """The httpx event hooks; `stats` is the client-wide count."""

    def __init__(self) -> None:
        self.stats = R1Stats()

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def waited(self, seconds: float) -> None:
        """An attempt waited `seconds` on the rate limiter before it was sent."""
        if seconds < 0.001:
            return
        self.stats.limiter_waits += 1
        self.stats.limiter_wait_s += seconds
        scope = _scope.get()
        if scope is not None:
            scope.tally.limiter_wait += seconds

    async def on_request(self, request: httpx.Request) -> None:
        key = str(request.extensions.get(ROUTE) or f"{request.method} {request.url.path}")
        self.stats.calls[key] += 1
        scope = _scope.get()
        if scope is not None:
            scope.tally.calls += 1
            scope.tally.routes[key] += 1

    async def on_response(self, response: httpx.Response) -> None:
        status = response.status_code
        self.stats.statuses[status] += 1
        if status == 429:
            self.stats.rate_limited += 1
            scope = _scope.get()
            if scope is not None:
                scope.tally.rate_limited += 1
