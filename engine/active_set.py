"""The active set: ids of the jobs a worker must run (QUEUED or RUNNING).

Workers' crash recovery scans it for jobs whose lease lapsed. It is a global key,
in another hash slot than any job on Redis Cluster, so no script or transaction
changes it together with a job's status. Instead:

- whoever makes a job QUEUED adds the id before the status change (a crash right
  after the change leaves the job where recovery finds it) and again after it
  (see `prune`), then pushes the target's queue;
- whoever finishes a job sets its keys to expire, then removes the id;
- recovery prunes ids whose job is not QUEUED/RUNNING: left by a refused or
  unfinished confirm, a paused job, or a finish cut short by a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from engine.keys import GlobalKeys
from engine.models import TERMINAL_STATUSES, JobStatus
from engine.redis_client import AnyRedis

ACTIVE_STATUSES = frozenset({JobStatus.QUEUED.value, JobStatus.RUNNING.value})


class ActiveSet:
    def __init__(
        self, redis: AnyRedis, keys: GlobalKeys, retire: Callable[[str], Awaitable[None]]
    ) -> None:
        """`retire(job_id)` sets a finished job's keys to expire (Store.finish's first step)."""
        self.redis = redis
        self.keys = keys
        self.retire = retire

    async def add(self, job_id: str) -> None:
        await self.redis.sadd(self.keys.active, job_id)

    async def remove(self, job_id: str) -> None:
        await self.redis.srem(self.keys.active, job_id)

    async def jobs(self) -> list[str]:
        """The QUEUED and RUNNING jobs of the set; every other id is pruned."""
        return await self.settle(sorted(await self.redis.smembers(self.keys.active)))

    async def settle(self, job_ids: Sequence[str]) -> list[str]:
        """Of `job_ids`, prune those whose job is not QUEUED/RUNNING; return the others."""
        status = dict(zip(job_ids, await self._statuses(job_ids), strict=True))
        await self.prune([j for j in job_ids if status[j] not in ACTIVE_STATUSES])
        return [j for j in job_ids if status[j] in ACTIVE_STATUSES]

    async def prune(self, job_ids: Sequence[str]) -> None:
        """Drop ids whose job is not QUEUED/RUNNING (gone, planned, paused, finished).

        SREM, then read the statuses again and put back the ids that became active
        meanwhile. Safe against a concurrent confirm or retry because those add the
        id once more after their status change: either that SADD follows this SREM,
        or their status change precedes the second read. A finished job's keys are
        set to expire (its `finish` may never have run)."""
        if not job_ids:
            return
        await self.redis.srem(self.keys.active, *job_ids)
        for job_id, status in zip(job_ids, await self._statuses(job_ids), strict=True):
            if status in ACTIVE_STATUSES:
                await self.add(job_id)
            elif status in TERMINAL_STATUSES:
                await self.retire(job_id)

    async def _statuses(self, job_ids: Sequence[str]) -> list[str | None]:
        """One status per id (None: the job is gone); a cluster client splits the pipeline."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(self.keys.job(job_id).meta, "status")
            return await pipe.execute()
