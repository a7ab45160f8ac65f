"""A simulator + R1 client + engine on the test's real Redis, for workflow tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from engine import Engine, EngineConfig, JobStatus
from engine.models import Plan
from workflows.catalog import build_registry
from workflows.inputs.samples import sample_units
from workflows.r1 import R1Client, R1Config, RetryPolicy
from workflows.sim import SimConfig, Simulator

CREDS = {"tenant_id": "sim-tenant", "client_id": "sim-client", "client_secret": "sim-secret"}


async def fast_sleep(seconds: float) -> None:
    await anyio.sleep(min(seconds, 0.002))


@dataclass
class Rig:
    engine: Engine
    sim: Simulator
    client: R1Client

    async def plan(self, workflow: str, units: list[Any], options: dict | None = None) -> Plan:
        return await self.engine.plan(workflow, units, options or {})

    async def run(
        self,
        workflow: str,
        units: list[Any],
        options: dict | None = None,
        timeout: float = 60,
        confirm_text: str | None = None,
    ) -> tuple[Plan, Any]:
        plan = await self.plan(workflow, units, options)
        await self.engine.confirm(plan.job_id, plan.digest, confirm_text=confirm_text)
        return plan, await self.engine.wait(plan.job_id, timeout=timeout)

    def stats(self) -> dict[str, Any]:
        return self.sim.stats()


def sim_for(units: list[Any], **config: Any) -> Simulator:
    serials = [s for u in units for s in getattr(u, "ap_serials", [])]
    config.setdefault("profile", "instant")
    config.setdefault("seed", 7)
    config.setdefault("aps", 4)
    config.setdefault("rate_limit_per_minute", 1_000_000)
    return Simulator(SimConfig(extra_ap_serials=serials, **config))


@asynccontextmanager
async def rig(
    redis: Any, prefix: str, sim: Simulator, *, base_url: str | None = None, **engine_config: Any
) -> AsyncIterator[Rig]:
    config = R1Config(
        base_url=base_url or "http://sim",
        retry=RetryPolicy(attempts=6, base=0.005, cap=0.02),
        **CREDS,
    )
    transport = None if base_url else httpx.ASGITransport(app=sim.app)
    engine_config.setdefault("activity_min_interval", 0.005)
    engine_config.setdefault("activity_max_interval", 0.05)
    async with R1Client(config, transport=transport, seed=1) as client:
        engine = Engine(
            redis,
            build_registry(),
            EngineConfig(prefix=prefix, **engine_config),
            resources={"r1": client, "sim": sim},
            sleep=fast_sleep,
            seed=1,
        )
        async with engine.running():
            yield Rig(engine, sim, client)


def units(n: int, **kw: Any) -> list[Any]:
    return sample_units(n, **kw)


async def finished(r: Rig, job_id: str, timeout: float = 60) -> JobStatus:
    return (await r.engine.wait(job_id, timeout=timeout)).status
