"""A job's event stream: typed events appended in order, read from a cursor or
tailed (blocking on Redis, no polling loop). Entry ids are the cursors.

Blocking reads (XREAD here, BLPOP on a target's queue) block in chunks the Redis
client's socket timeout allows."""

from __future__ import annotations

import time

from engine.events import Event, EventRecord, parse_event
from engine.keys import GlobalKeys
from engine.redis_client import AnyRedis

MAX_BLOCK = 1.0
"""Seconds one blocking command (XREAD, BLPOP) may block: a longer wait is a loop."""


def max_block(redis: AnyRedis) -> float:
    """How long one blocking command may block: under the client's socket timeout
    (redis-py's default is 5 s), so a long wait never reads as a dead connection.
    A cluster client has no pool of its own: it keeps the nodes' settings."""
    pool = getattr(redis, "connection_pool", redis)
    timeout = getattr(pool, "connection_kwargs", {}).get("socket_timeout")
    return min(MAX_BLOCK, timeout / 2) if timeout else MAX_BLOCK


async def blocking_pop(redis: AnyRedis, key: str, timeout: float) -> str | None:
    """BLPOP for up to `timeout` seconds, in chunks the socket timeout allows."""
    deadline = time.monotonic() + timeout
    while True:
        chunk = min(deadline - time.monotonic(), max_block(redis))
        res = await redis.blpop([key], timeout=max(0.001, round(chunk, 3)))
        if res or time.monotonic() >= deadline:
            return res[1] if res else None


class EventStream:
    def __init__(self, redis: AnyRedis, keys: GlobalKeys, maxlen: int) -> None:
        self.redis = redis
        self.keys = keys
        self.maxlen = maxlen
        """Events kept per job (approximately: Redis trims whole nodes)."""

    async def append(self, job_id: str, event: Event) -> str:
        return await self.redis.xadd(
            self.keys.job(job_id).events,
            {"e": event.model_dump_json()},
            maxlen=self.maxlen,
            approximate=True,
        )

    async def read(
        self, job_id: str, after: str | None = None, limit: int = 500
    ) -> list[EventRecord]:
        start = "-" if not after or after == "0" else f"({after}"
        raw = await self.redis.xrange(self.keys.job(job_id).events, min=start, count=limit)
        return [EventRecord(cursor=i, event=parse_event(f["e"])) for i, f in raw]

    async def tail(
        self, job_id: str, after: str | None, block_ms: int, limit: int = 500
    ) -> list[EventRecord]:
        """Block up to `block_ms` for events after the cursor."""
        key = self.keys.job(job_id).events
        deadline = time.monotonic() + block_ms / 1000
        while True:
            chunk = min(deadline - time.monotonic(), max_block(self.redis))
            res = await self.redis.xread(
                {key: after or "0-0"}, count=limit, block=max(1, int(chunk * 1000))
            )
            out: list[EventRecord] = []
            for _stream, entries in res or ():
                out += [EventRecord(cursor=i, event=parse_event(f["e"])) for i, f in entries]
            if out or time.monotonic() >= deadline:
                return out

    async def last_cursor(self, job_id: str) -> str:
        raw = await self.redis.xrevrange(self.keys.job(job_id).events, count=1)
        return raw[0][0] if raw else "0-0"
