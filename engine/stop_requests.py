"""Cancel and pause requests: persisted in the job's meta by a Lua script before
anyone acknowledges them, read by whichever worker owns the job (now or after a
takeover). See scripts.CANCEL and scripts.PAUSE."""

from __future__ import annotations

from redis.asyncio import Redis

from engine import scripts
from engine.errors import JobNotFound
from engine.events import Event
from engine.keys import GlobalKeys


class StopRequests:
    def __init__(self, redis: Redis, keys: GlobalKeys, events_maxlen: int) -> None:
        self.redis = redis
        self.keys = keys
        self.events_maxlen = events_maxlen
        self._cancel = redis.register_script(scripts.CANCEL)
        self._pause = redis.register_script(scripts.PAUSE)

    async def cancel(self, job_id: str, mode: str, now: float, event: Event) -> tuple[str, str]:
        """Persist a cancel request (see scripts.CANCEL) before anyone acknowledges it."""
        res, cur = await self._cancel(
            keys=[self.keys.job(job_id).meta, self.keys.job(job_id).events],
            args=[mode, now, self.events_maxlen, event.model_dump_json()],
        )
        if res == "missing":
            raise JobNotFound(f"no job {job_id!r}")
        return res, cur

    async def pause(self, job_id: str, now: float, event: Event) -> tuple[str, str]:
        """Persist an operator's pause (see scripts.PAUSE) before it is acknowledged."""
        res, cur = await self._pause(
            keys=[self.keys.job(job_id).meta, self.keys.job(job_id).events],
            args=[now, self.events_maxlen, event.model_dump_json()],
        )
        if res == "missing":
            raise JobNotFound(f"no job {job_id!r}")
        return res, cur

    async def read(self, job_id: str) -> tuple[str, bool]:
        """The job's pending cancel request ('graceful', 'hard' or '') and pause request."""
        cancel, pause = await self.redis.hmget(self.keys.job(job_id).meta, ["cancel", "pause"])
        return cancel or "", bool(pause)
