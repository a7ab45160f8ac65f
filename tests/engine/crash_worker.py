"""A worker process for the crash test: runs a job until it is killed.

Every executor run is appended to a Redis list, so the test can count runs
across processes. With CRASH_BLOCK set, unit 'slow' hangs in phase b.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel
from redis.asyncio import Redis

from engine import Engine, EngineConfig, JobStatus, JobView, PhaseSpec, Registry, WorkflowSpec
from engine.redis_client import connect

ROOT = Path(__file__).resolve().parents[2]


class CUnit(BaseModel):
    name: str

    @property
    def key(self) -> str:
        return self.name


class Logged:
    def __init__(self, pid: str, redis: Redis, prefix: str) -> None:
        self.pid, self.redis, self.prefix = pid, redis, prefix

    async def run(self, ctx):
        if os.environ.get("CRASH_BLOCK") and ctx.unit_key == "slow" and self.pid == "b":
            await self.redis.rpush(f"{self.prefix}:blocked", "1")
            await anyio.sleep_forever()
        await self.redis.rpush(f"{self.prefix}:runs", f"{ctx.unit_key}|{self.pid}")
        return None


def spec(redis: Redis, prefix: str) -> WorkflowSpec:
    return WorkflowSpec(
        name="crashy",
        title="crashy",
        unit_model=CUnit,
        phases=(
            PhaseSpec(id="a", title="A", executor=Logged("a", redis, prefix)),
            PhaseSpec(id="b", title="B", executor=Logged("b", redis, prefix), depends_on=("a",)),
            PhaseSpec(id="c", title="C", executor=Logged("c", redis, prefix), depends_on=("b",)),
        ),
    )


def engine(redis: Redis, prefix: str, lease_ttl: float) -> Engine:
    cfg = EngineConfig(prefix=prefix, lease_ttl=lease_ttl, max_in_flight=4)
    return Engine(redis, Registry([spec(redis, prefix)]), cfg)


async def kill_mid_job_and_resume(
    redis: Redis, url: str, prefix: str, env: dict[str, str]
) -> tuple[list[str], JobView, list[Any]]:
    """Run a job in this module as a worker process, SIGKILL it with `slow` blocked and
    three units done, and let a successor finish it. Returns the runs before the kill,
    the final view and the job's JobStarted events (single Redis or cluster alike)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__, url, prefix], env={**env, "CRASH_BLOCK": "1"}, cwd=ROOT
    )
    try:
        face = engine(redis, prefix, lease_ttl=1.0)  # no worker: plans and reads
        plan = await face.plan("crashy", [{"name": n} for n in ("u1", "u2", "slow", "u3")])
        await face.confirm(plan.job_id, plan.digest)
        with anyio.fail_after(30):
            while not await redis.llen(f"{prefix}:blocked"):
                await anyio.sleep(0.02)
            while (await face.get(plan.job_id)).units_by_state["succeeded"] < 3:
                await anyio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (await face.get(plan.job_id)).status == JobStatus.RUNNING  # the dead worker's last word
    runs_before = await redis.lrange(f"{prefix}:runs", 0, -1)
    successor = engine(redis, prefix, lease_ttl=1.0)
    async with successor.running():
        view = await successor.wait(plan.job_id, timeout=30)
    started = [
        e.event for e in await successor.events(plan.job_id) if e.event.type == "job_started"
    ]
    return runs_before, view, started


async def main(url: str, prefix: str) -> None:
    redis = await connect(url)  # a single server or a cluster
    eng = engine(redis, prefix, lease_ttl=1.0)
    async with eng.running():
        await anyio.sleep_forever()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
