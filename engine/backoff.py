"""Riding out a Redis restart.

Redis is the single source of truth, so while it is down nothing can progress;
but nothing should die either. Long-lived loops (the worker's queue and
recovery loop, a job's heartbeat, control reads and journal flushes) retry the
errors that mean "the store is unreachable right now" with a jittered
exponential backoff, and the faces answer such an error with a structured
"store unavailable" (`store_unavailable`) instead of an internal error.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.errors import RedisUnavailable

log = logging.getLogger("phasegrid.backoff")

T = TypeVar("T")

STORE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
"""Redis is down, restarting, still loading its AOF, or did not answer in time."""

STORE_UNAVAILABLE = "store unavailable: Redis is not reachable (restarting?); try again shortly"


def is_store_error(exc: BaseException) -> bool:
    """A store error, or a task group's bundle of nothing but store errors."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_store_error(e) for e in exc.exceptions)
    return isinstance(exc, STORE_ERRORS)


@contextlib.contextmanager
def store_unavailable() -> Iterator[None]:
    """For faces: a store error becomes `RedisUnavailable` (a safe, stable `kind`)."""
    try:
        yield
    except Exception as exc:
        if not is_store_error(exc):
            raise
        raise RedisUnavailable(STORE_UNAVAILABLE) from None


class Backoff:
    """Jittered exponential delays: `initial`, doubling, capped at `maximum`."""

    def __init__(
        self, initial: float = 0.1, maximum: float = 5.0, *, rng: random.Random | None = None
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng or random.Random()
        self.failures = 0

    def delay(self) -> float:
        """The next pause; jitter keeps many workers from reconnecting in lockstep."""
        ceiling = min(self.maximum, self.initial * 2 ** min(self.failures, 30))
        self.failures += 1
        return ceiling * (0.5 + self.rng.random() / 2)

    def reset(self) -> None:
        self.failures = 0

    async def wait(self) -> None:
        await anyio.sleep(self.delay())


async def retrying(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    give_up: Callable[[], bool] | None = None,
    backoff: Backoff | None = None,
) -> T:
    """Await `call()` until it succeeds, pausing with backoff after each store error.

    `give_up()` is asked after each failure; when it says so, the error is raised
    (e.g. the lease is gone, so the write would be refused anyway).
    """
    backoff = backoff or Backoff()
    while True:
        try:
            result = await call()
        except STORE_ERRORS as exc:
            if give_up is not None and give_up():
                raise
            if backoff.failures == 0:
                log.warning("%s: Redis unreachable (%s); retrying", what, exc)
            await backoff.wait()
            continue
        if backoff.failures:
            log.warning("%s: the store is back after %d retries", what, backoff.failures)
        return result
