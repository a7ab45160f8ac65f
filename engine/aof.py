"""Rewriting the embedded Redis's append-only file after secrets are purged.

Deleting a key does not remove it from the AOF: the old SET/HSET commands stay
on disk until the file is rewritten. After a purge of unit inputs, the
compactor asks Redis for a BGREWRITEAOF, debounced so a burst of purges costs
one rewrite, and waits for it to finish so nothing purged stays on disk.

    compactor = AofCompactor(redis)
    tg.start_soon(compactor.run)
    engine = Engine(..., on_inputs_purged=compactor.request)
    ...
    await compactor.flush()      # at shutdown: rewrite now if a purge is pending
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger("phasegrid.aof")


class AofCompactor:
    def __init__(
        self,
        redis: Redis,
        *,
        delay: float = 1.0,
        timeout: float = 300.0,
        poll: float = 0.05,
        sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
    ) -> None:
        self.redis = redis
        self.delay = delay
        self.sleep = sleep
        self.timeout = timeout
        self.poll = poll
        self.rewrites = 0
        """Rewrites finished (one per burst of purges)."""
        self._pending = False
        self._wanted = anyio.Event()
        self._lock = anyio.Lock()

    def request(self) -> None:
        """A purge happened: rewrite soon (cheap, callable from anywhere)."""
        self._pending = True
        self._wanted.set()

    async def run(self) -> None:
        """Serve requests forever (in a task group); errors are logged, never raised."""
        while True:
            await self._wanted.wait()
            await self.sleep(self.delay)  # let the rest of the burst arrive
            self._wanted = anyio.Event()
            try:
                await self.flush()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("could not rewrite the Redis AOF after a purge: %s", exc)

    async def flush(self) -> None:
        """Rewrite now if a purge is pending; return once no rewrite is running."""
        async with self._lock:
            if not self._pending:
                return
            self._pending = False
            try:
                await self._rewrite()
            except BaseException:
                self._pending = True  # the next flush tries again
                raise
            self.rewrites += 1
            status = (await self.redis.info("persistence")).get("aof_last_bgrewrite_status")
            if status not in (None, "ok"):
                log.warning("Redis reports the last AOF rewrite as %s", status)

    async def close(self, timeout: float = 60.0) -> None:
        """At shutdown (even a cancelled one): flush a pending rewrite, log failures."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(timeout):
            try:
                await self.flush()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("could not rewrite the Redis AOF after a purge: %s", exc)

    async def _rewrite(self) -> None:
        # A rewrite already running forked before this purge: wait, then start ours.
        await self._wait_idle()
        try:
            await self.redis.bgrewriteaof()
        except ResponseError:  # one started meanwhile (another process)
            await self._wait_idle()
            await self.redis.bgrewriteaof()
        await self._wait_idle()

    async def _wait_idle(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            info = await self.redis.info("persistence")
            if not int(info.get("aof_rewrite_in_progress", 0)) and not int(
                info.get("aof_rewrite_scheduled", 0)
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Redis AOF rewrite took over {self.timeout:.0f}s")
            await anyio.sleep(self.poll)
