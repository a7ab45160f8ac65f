"""The test's side of a fleet of `phasegrid worker` processes: a front engine in the
test process (plans and confirms, runs no job), and what a test reads back from
Redis (events, cells, leases) to decide when to signal a worker and what to assert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from redis.asyncio import Redis

from app.runtime import Runtime, RuntimeSettings, open_runtime
from engine import EngineConfig
from engine.codec import dump_revealed
from engine.keys import GlobalKeys
from tests.chaos.procs import Procs, preseed_sim
from workflows.inputs.samples import sample_units

VENUE = "Sim Venue"
TERMINAL = ("COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "PAUSED")


def job_units(jobs: int, units: int) -> list[list[Any]]:
    """`jobs` disjoint sets of `units` sample units (their own names and APs)."""
    us = sample_units(jobs * units)
    return [us[i * units : (i + 1) * units] for i in range(jobs)]


def start_sim(procs: Procs, units: list[Any], *, faults: str = "5xx=0", seed: int = 11) -> str:
    """A `phasegrid sim` process whose venue holds the units' APs; its URL."""
    state = procs.tmp / "sim.json"
    preseed_sim(state, seed=seed, serials=[s for u in units for s in u.ap_serials], groups=[])
    return procs.sim(state, seed=seed, faults=faults)


@asynccontextmanager
async def front(procs: Procs, sim_url: str) -> AsyncIterator[Runtime]:
    """An engine of the simulator's target in this process, with no worker: it plans
    and confirms (sealing inputs with the workers' key: the same data directory)."""
    settings = RuntimeSettings(
        redis_url=procs.redis_url,
        data_dir=Path(procs.env["XDG_DATA_HOME"]) / "phasegrid",
        backend="sim-url",
        sim_url=sim_url,
        worker=False,
        engine=EngineConfig(prefix=procs.prefix),
    )
    async with open_runtime(settings) as rt:
        yield rt


async def submit(rt: Runtime, units: list[Any]) -> str:
    """Plan and confirm a `per_unit_dpsk` job; its id (QUEUED for a worker)."""
    raw = [json.loads(dump_revealed(u)) for u in units]
    plan = await rt.engine.plan("per_unit_dpsk", raw, {"venue": VENUE})
    assert plan.summary.conflicts == 0, plan.summary
    await rt.engine.confirm(plan.job_id, plan.digest)
    return plan.job_id


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 120) -> Any:
    """Wait for `check()` to return something truthy (a condition, not a duration)."""
    with anyio.fail_after(timeout):
        while not (result := await check()):
            await anyio.sleep(0.02)
    return result


class Reader:
    """One job's records straight from Redis."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = GlobalKeys(prefix)

    async def events(self, job_id: str) -> list[dict[str, Any]]:
        stream = await self.redis.xrange(self.keys.job(job_id).events)
        return [json.loads(fields["e"]) for _id, fields in stream]

    async def starts(self, job_id: str) -> list[dict[str, Any]]:
        """The job's JobStarted events: who claimed it, with which fence."""
        return [e for e in await self.events(job_id) if e["type"] == "job_started"]

    async def meta(self, job_id: str) -> dict[str, str]:
        return await self.redis.hgetall(self.keys.job(job_id).meta)

    async def status(self, job_id: str) -> str:
        return await self.redis.hget(self.keys.job(job_id).meta, "status") or ""

    async def leased(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self.keys.job(job_id).lease))

    async def cells(self, job_id: str, *states: str) -> list[str]:
        """The fields ('row|phase') of the job's cells in one of `states`."""
        cells = await self.redis.hgetall(self.keys.job(job_id).cells)
        return [f for f, rec in cells.items() if json.loads(rec).get("s") in states]

    async def done(self, job_id: str) -> int:
        meta = await self.meta(job_id)
        return int(meta.get("transitions", 0) or 0)
