"""A chaos test's own redis-server (the embedded one: AOF, `appendfsync everysec`), killed
with SIGKILL and restarted on the same data directory, and a client that waits out the
restart. `durable()` is a barrier: what Redis acknowledged before it is on disk and
fsynced, so it must survive any restart; `restart(lose_after=size)` restarts from the
AOF cut back to that barrier, the worst an `everysec` fsync window can lose (a host
crash: what the OS had not written back is gone)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.redis_server import EmbeddedRedis
from tests.chaos.procs import kill9

T = TypeVar("T")
DOWN = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError)


@dataclass(frozen=True)
class Barrier:
    """The AOF at a moment where everything acknowledged before was fsynced."""

    size: int
    inode: int


class RedisProc:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server = EmbeddedRedis(data_dir)
        self.url = self.server.start()
        self.restarts = 0
        self.client = Redis.from_url(self.url, decode_responses=True)

    @property
    def aof(self) -> Path:
        return self.data_dir / "appendonly.aof"

    async def patient(self, read: Callable[[Redis], Awaitable[T]], timeout: float = 60) -> T:
        """`read(client)`, retried while Redis is down or loading (a restart)."""
        with anyio.fail_after(timeout):
            while True:
                try:
                    return await read(self.client)
                except DOWN:
                    await anyio.sleep(0.05)

    async def durable(self) -> Barrier:
        """Wait until every command Redis ran so far is written to the AOF (its buffer
        empty: with `everysec`, a write may be postponed while an fsync lags), fsync
        the file, and return its size then: nothing acknowledged before this call is
        lost by any later restart, even one that drops the unsynced tail."""
        await self.client.incr("chaos:barrier")  # a write: the buffer holds it until written
        with anyio.fail_after(60):
            while True:
                info: dict[str, Any] = await self.client.info("persistence")
                assert info["aof_enabled"] == 1, info
                if info["aof_buffer_length"] == 0 and not info["aof_rewrite_in_progress"]:
                    break
                await anyio.sleep(0.01)
        stat = self.aof.stat()
        fd = os.open(self.aof, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return Barrier(stat.st_size, stat.st_ino)

    def kill(self) -> None:
        process = self.server.process
        assert process is not None
        kill9(process)  # type: ignore[arg-type]
        if process.stderr:
            process.stderr.close()

    def restart(self, *, lose_after: Barrier | None = None) -> None:
        """Start redis-server again on the same data directory (same socket, so every
        worker's URL still works); with `lose_after`, drop the AOF's tail past that
        barrier first (Redis loads a file cut mid-command: `aof-load-truncated`)."""
        assert self.server.process is None or self.server.process.poll() is not None
        if lose_after is not None:
            stat = self.aof.stat()
            assert stat.st_ino == lose_after.inode, "the AOF was rewritten since the barrier"
            assert stat.st_size >= lose_after.size
            os.truncate(self.aof, lose_after.size)
        self.server = EmbeddedRedis(self.data_dir)
        assert self.server.start() == self.url
        self.restarts += 1

    async def close(self) -> None:
        await self.client.aclose()
        self.server.stop(force=True)
