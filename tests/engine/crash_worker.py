"""A worker process for the crash test: runs a job until it is killed.

Every executor run is appended to a Redis list, so the test can count runs
across processes. With CRASH_BLOCK set, unit 'slow' hangs in phase b.
"""

from __future__ import annotations

import os
import sys

import anyio
from pydantic import BaseModel
from redis.asyncio import Redis

from engine import Engine, EngineConfig, PhaseSpec, Registry, WorkflowSpec


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


async def main(url: str, prefix: str) -> None:
    redis = Redis.from_url(url, decode_responses=True)
    eng = engine(redis, prefix, lease_ttl=1.0)
    async with eng.running():
        await anyio.sleep_forever()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
