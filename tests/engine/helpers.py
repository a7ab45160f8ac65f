"""Controllable workflows for engine tests: executors that wait on gates the
test opens, so ordering is proven without sleeps."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from pydantic import BaseModel

from engine import Engine, EngineConfig, PhaseSpec, Registry, RetryPolicy, WorkflowSpec
from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError, TransientError
from engine.models import PhasePlan


class Unit(BaseModel):
    name: str
    fail: list[str] = []
    flaky: dict[str, int] = {}
    skip: list[str] = []

    @property
    def key(self) -> str:
        return self.name


class Opts(BaseModel):
    tag: str = "x"


class Recorder:
    """Shared by executors: what ran, in which order, and gates to hold cells."""

    def __init__(self) -> None:
        self.log: list[tuple[str | None, str]] = []
        self.gates: dict[tuple[str | None, str], anyio.Event] = {}
        self.started: dict[tuple[str | None, str], anyio.Event] = defaultdict(anyio.Event)
        self.attempts: dict[tuple[str | None, str], int] = defaultdict(int)
        self.in_flight = 0
        self.max_in_flight = 0
        self.phase_in_flight: dict[str, int] = defaultdict(int)
        self.phase_max: dict[str, int] = defaultdict(int)

    def gate(self, unit: str | None, phase: str) -> anyio.Event:
        return self.gates.setdefault((unit, phase), anyio.Event())


class Step:
    """Executor: records, optionally waits on its gate, fails as the unit says."""

    def __init__(
        self,
        rec: Recorder,
        phase: str,
        *,
        gated: bool = False,
        outputs: Sequence[str] = (),
        yields: int = 1,
    ):
        self.yields = yields
        self.rec = rec
        self.phase = phase
        self.gated = gated
        self.outputs = tuple(outputs)

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        unit = ctx.unit
        if unit is not None and f"conflict:{self.phase}" in unit.fail:
            return PhasePlan(action="conflict", detail="exists with other settings")
        return PhasePlan(action="create", resource=self.phase, calls=1)

    async def run(self, ctx: PhaseContext) -> dict[str, Any]:
        key = (ctx.unit_key, self.phase)
        rec = self.rec
        rec.attempts[key] += 1
        rec.in_flight += 1
        rec.max_in_flight = max(rec.max_in_flight, rec.in_flight)
        rec.phase_in_flight[self.phase] += 1
        rec.phase_max[self.phase] = max(rec.phase_max[self.phase], rec.phase_in_flight[self.phase])
        rec.started[key].set()
        try:
            if self.gated:
                await rec.gate(*key).wait()
            else:
                for _ in range(self.yields):
                    await anyio.sleep(0)
            unit = ctx.unit
            if unit is not None:
                if self.phase in unit.fail:
                    raise PermanentError(f"{self.phase} refused for {unit.name}")
                if rec.attempts[key] <= unit.flaky.get(self.phase, 0):
                    raise TransientError(f"{self.phase} flaked", retry_after=None)
            rec.log.append(key)
            return {o: f"{o}-{ctx.unit_key}" for o in self.outputs}
        finally:
            rec.in_flight -= 1
            rec.phase_in_flight[self.phase] -= 1


def skip_if_listed(phase: str) -> Callable[[Any, Any], bool]:
    return lambda _opts, unit: unit is not None and phase in unit.skip


def chain_spec(
    rec: Recorder,
    name: str = "chain",
    phases: Sequence[str] = ("a", "b", "c"),
    *,
    gated: bool = False,
    critical: dict[str, bool] | None = None,
    concurrency: dict[str, int] | None = None,
    retry: RetryPolicy | None = None,
    yields: int = 1,
) -> WorkflowSpec:
    specs = []
    prev: tuple[str, ...] = ()
    for pid in phases:
        specs.append(
            PhaseSpec(
                id=pid,
                title=pid.upper(),
                executor=Step(rec, pid, gated=gated, yields=yields),
                depends_on=prev,
                critical=(critical or {}).get(pid, True),
                concurrency=(concurrency or {}).get(pid),
                retry=retry,
                skip_if=skip_if_listed(pid),
            )
        )
        prev = (pid,)
    return WorkflowSpec(
        name=name, title=name, phases=tuple(specs), unit_model=Unit, options_model=Opts
    )


async def instant_sleep(_delay: float) -> None:
    await anyio.sleep(0)


def make_engine(
    redis,
    prefix: str,
    *specs: WorkflowSpec,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] = instant_sleep,
    **config: Any,
) -> Engine:
    cfg = EngineConfig(prefix=prefix, **config)
    return Engine(redis, Registry(list(specs)), cfg, clock=clock, sleep=sleep, seed=1)


def units(*names: str, **kw: Any) -> list[dict[str, Any]]:
    return [{"name": n, **kw} for n in names]


async def run_job(engine: Engine, workflow: str, unit_list: list[dict[str, Any]], **kw: Any):
    plan = await engine.plan(workflow, unit_list, kw.pop("options", None), **kw)
    await engine.confirm(plan.job_id, plan.digest)
    return plan, await engine.wait(plan.job_id, timeout=30)
