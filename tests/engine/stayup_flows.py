"""Workflows for the stay-up tests, held by files rather than Redis (Redis is
what those tests kill): a job whose 'hold' units wait in phase b until a gate
file exists, and a planner that waits for a gate file while planning.

    --registry tests.engine.stayup_flows:build_registry   (for `phasegrid serve`)
    python -m tests.engine.stayup_flows REDIS_URL PREFIX MARKER GATE   (plans, slowly)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, SecretStr
from redis.asyncio import Redis

from engine import Engine, EngineConfig, PhaseSpec, Registry, WorkflowSpec
from engine.context import PhaseContext, PlanContext
from engine.models import PhasePlan

POLL = 0.02


class Unit(BaseModel):
    name: str
    secret: SecretStr | None = None

    @property
    def key(self) -> str:
        return self.name


class Opts(BaseModel):
    gate: str = ""
    """Held cells (and the slow planner) wait until this file exists."""
    marker: str = ""
    """Written (job id) when a held cell or the slow planner starts waiting."""


async def hold(opts: Opts, job_id: str) -> None:
    if opts.marker:
        Path(opts.marker).write_text(job_id)
    while not Path(opts.gate).exists():
        await anyio.sleep(POLL)


class Step:
    def __init__(self, phase: str, *, held: bool = False) -> None:
        self.phase = phase
        self.held = held

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        return PhasePlan(action="create", resource=self.phase, calls=1)

    async def run(self, ctx: PhaseContext) -> dict[str, Any]:
        if self.held and str(ctx.unit_key).startswith("hold"):
            await hold(ctx.options, ctx.job_id)
        return {}


class SlowPlan(Step):
    async def plan(self, ctx: PlanContext) -> PhasePlan:
        await hold(ctx.options, ctx.job_id)
        return await super().plan(ctx)


def build_registry() -> Registry:
    gated = WorkflowSpec(
        name="gated",
        title="Gated",
        unit_model=Unit,
        options_model=Opts,
        phases=(
            PhaseSpec(id="a", title="A", executor=Step("a")),
            PhaseSpec(id="b", title="B", executor=Step("b", held=True), depends_on=("a",)),
            PhaseSpec(id="c", title="C", executor=Step("c"), depends_on=("b",)),
        ),
    )
    slow = WorkflowSpec(
        name="slow_plan",
        title="Slow to plan",
        unit_model=Unit,
        options_model=Opts,
        phases=(PhaseSpec(id="a", title="A", executor=SlowPlan("a")),),
    )
    return Registry([gated, slow])


def engine(redis: Redis, prefix: str, **config: Any) -> Engine:
    return Engine(redis, build_registry(), EngineConfig(prefix=prefix, **config))


async def plan_slowly(url: str, prefix: str, marker: str, gate: str) -> None:
    """A planner process (killed by the test while planning)."""
    redis = Redis.from_url(url, decode_responses=True)
    face = engine(redis, prefix, planner_lease_ttl=1.0)
    units = [{"name": "u1", "secret": "hunter2-u1"}, {"name": "u2", "secret": "hunter2-u2"}]
    await face.plan("slow_plan", units, {"marker": marker, "gate": gate})


if __name__ == "__main__":
    anyio.run(plan_slowly, *sys.argv[1:5])
