"""Synthetic workflows for the RPC/MCP tests (no R1): quick per-unit chains,
one with a conflict switch, one slow enough to watch, one destructive."""

from __future__ import annotations

import os
from typing import Any

import anyio
from pydantic import BaseModel, Field

from engine import PhaseSpec, Registry, WorkflowSpec
from engine.context import PhaseContext, PlanContext
from engine.errors import PermanentError
from engine.models import CleanupRequest, CleanupSource, PhasePlan


class Unit(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    vlan: int = Field(100, ge=1, le=4094)
    fail: list[str] = []
    conflict: list[str] = []

    @property
    def key(self) -> str:
        return self.name


class Opts(BaseModel):
    venue: str = "Sim Venue"
    delay: float = Field(0.0, ge=0, le=5)


class Step:
    def __init__(self, phase: str) -> None:
        self.phase = phase

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        unit = ctx.unit
        if unit is not None and self.phase in unit.conflict:
            return PhasePlan(action="conflict", detail="exists with other settings")
        return PhasePlan(action="create", resource=self.phase, calls=1)

    async def run(self, ctx: PhaseContext) -> dict[str, Any]:
        delay = float(getattr(ctx.options, "delay", 0.0) or 0.0)
        await anyio.sleep(delay)
        unit = ctx.unit
        if unit is not None and self.phase in unit.fail:
            raise PermanentError(f"{self.phase} refused for {unit.name}")
        return {f"{self.phase}_id": f"{self.phase}-{ctx.unit_key}"}


def chain(name: str, phases: tuple[str, ...] = ("group", "pool", "network")) -> WorkflowSpec:
    specs = []
    prev: tuple[str, ...] = ()
    for pid in phases:
        specs.append(PhaseSpec(id=pid, title=pid.title(), executor=Step(pid), depends_on=prev))
        prev = (pid,)
    return WorkflowSpec(
        name=name,
        title=f"Synthetic {name}",
        description="A synthetic per-unit chain for tests",
        phases=tuple(specs),
        unit_model=Unit,
        options_model=Opts,
    )


class DeleteOpts(BaseModel):
    venue: str = "Sim Venue"


def cleanup_of(source: CleanupSource) -> CleanupRequest:
    return CleanupRequest(
        workflow="demo_cleanup",
        units=[{"name": k} for k in source.unit_keys],
        options={"venue": source.options.get("venue", "Sim Venue")},
        title=f"cleanup of {source.job_id}",
    )


def build_registry() -> Registry:
    demo = chain("demo")
    demo = WorkflowSpec(**{**demo.__dict__, "cleanup": cleanup_of})
    delete = WorkflowSpec(
        name="demo_cleanup",
        title="Delete what a demo job created",
        phases=(PhaseSpec(id="delete", title="Delete", executor=Step("delete"), destructive=True),),
        unit_model=Unit,
        options_model=DeleteOpts,
        destructive=True,
        confirm_text=lambda opts: opts.venue,
    )
    return Registry([demo, chain("demo_long", ("a", "b", "c", "d")), delete])


def registry_factory() -> Registry:
    """`--registry tests.rpc.workflows:registry_factory` for subprocesses."""
    os.environ.setdefault("PHASEGRID_TEST_REGISTRY", "1")
    return build_registry()
