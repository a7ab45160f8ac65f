"""The leases in Redis: the worker holding a job (with a fencing token), the
process planning a job, and the live workers of each target. (`engine.lease` is
a running job's own view of its lease, checked before each write.)

A lease is a key with a TTL, renewed by heartbeat; when it lapses another worker
may claim the job, and the fence moves on so that the old owner's writes are
refused. Every key is a job's (one hash slot) or a global index written alone.
"""

from __future__ import annotations

from engine import scripts
from engine.keys import GlobalKeys, JobKeys
from engine.redis_client import AnyRedis


class LeaseStore:
    def __init__(self, redis: AnyRedis, keys: GlobalKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._claim = redis.register_script(scripts.CLAIM)
        self._renew = redis.register_script(scripts.RENEW)
        self._release = redis.register_script(scripts.RELEASE)

    def job(self, job_id: str) -> JobKeys:
        return self.keys.job(job_id)

    # -- a worker's lease on a job ----------------------------------------------

    async def claim(self, job_id: str, worker: str, ttl_ms: int, target: str) -> int | None:
        """A fencing token, or None if leased or planned for another target."""
        k = self.job(job_id)
        token = await self._claim(keys=[k.lease, k.fence, k.meta], args=[worker, ttl_ms, target])
        return None if int(token) < 0 else int(token)

    async def renew(self, job_id: str, worker: str, ttl_ms: int, fence: int) -> bool:
        k = self.job(job_id)
        return bool(await self._renew(keys=[k.lease, k.fence], args=[worker, ttl_ms, fence]))

    async def leased(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self.job(job_id).lease))

    async def release(self, job_id: str, worker: str) -> bool:
        """Drop the lease if (and only if) this worker holds it."""
        return bool(await self._release(keys=[self.job(job_id).lease], args=[worker]))

    # -- the planner's lease ----------------------------------------------------

    async def renew_planner(self, job_id: str, planner: str, ttl_ms: int) -> bool:
        """Extend a live planner lease (never revive a lapsed one: it was reaped)."""
        k = self.job(job_id).planner
        return bool(await self.redis.set(k, planner, px=ttl_ms, xx=True))

    async def planner_alive(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self.job(job_id).planner))

    async def planning_jobs(self) -> list[str]:
        return sorted(await self.redis.smembers(self.keys.planning))

    async def done_planning(self, job_id: str) -> None:
        """The job left PLANNING: drop it from the index and its planner's lease."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.srem(self.keys.planning, job_id)
            pipe.delete(self.job(job_id).planner)
            await pipe.execute()

    # -- the live workers of each target -----------------------------------

    async def register_worker(self, target_key: str, worker: str, until_ms: int) -> None:
        await self.redis.zadd(self.keys.workers(target_key), {worker: until_ms})

    async def unregister_worker(self, target_key: str, worker: str) -> None:
        await self.redis.zrem(self.keys.workers(target_key), worker)

    async def live_workers(self, target_key: str, now_ms: int) -> int:
        key = self.keys.workers(target_key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", f"({now_ms}")
            pipe.zcard(key)
            _, n = await pipe.execute()
        return int(n)
