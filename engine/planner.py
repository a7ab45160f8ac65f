"""Phase 0: decide, per unit and per phase, what a run would do. Writes nothing
to the target: executors' `plan` reads the inventory loaded once per job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.bounds import check_plan_bytes
from engine.context import PlanContext
from engine.estimate import TargetTiming, estimate
from engine.models import PhasePlan, PlanSummary, UnitPlan
from engine.spec import PhaseSpec, WorkflowSpec

CANCEL_CHECK_EVERY = 250


async def plan_phase(ctx: PlanContext, phase: PhaseSpec, options: Any, unit: Any) -> PhasePlan:
    if phase.skip_if is not None and phase.skip_if(options, unit):
        return PhasePlan(action="skip", detail="skip condition holds")
    planner = getattr(phase.executor, "plan", None)
    if planner is None:
        return PhasePlan(action="run", calls=1)
    result = await planner(ctx)
    return result if result is not None else PhasePlan(action="run", calls=1)


async def build_plan(
    *,
    spec: WorkflowSpec,
    phases: Sequence[PhaseSpec],
    job_id: str,
    units: Sequence[Any],
    unit_keys: Sequence[str],
    options: Any,
    resources: Mapping[str, Any],
    max_in_flight: int,
    cancelled: Callable[[], Any],
    timing: TargetTiming | None = None,
    time_scale: float = 1.0,
) -> tuple[dict[str, PhasePlan], list[UnitPlan], PlanSummary] | None:
    """Returns None when a cancel arrived while planning (cancel wins)."""
    base = PlanContext(job_id=job_id, workflow=spec.name, options=options, resources=resources)
    if spec.inventory is not None:
        base.inventory = await spec.inventory(base)

    def ctx_for(phase: PhaseSpec, unit: Any, key: str | None, index: int | None) -> PlanContext:
        return PlanContext(
            job_id=job_id, workflow=spec.name, options=options, resources=resources,
            inventory=base.inventory, unit=unit, unit_key=key, unit_index=index, phase=phase,
            shared=base.shared,
        )  # fmt: skip

    global_plans: dict[str, PhasePlan] = {}
    for phase in phases:
        if not phase.per_unit:
            global_plans[phase.id] = await plan_phase(
                ctx_for(phase, None, None, None), phase, options, None
            )
    unit_plans: list[UnitPlan] = []
    size = 0
    for i, (unit, key) in enumerate(zip(units, unit_keys, strict=True)):
        if i % CANCEL_CHECK_EVERY == CANCEL_CHECK_EVERY - 1 and await cancelled():
            return None
        plans: dict[str, PhasePlan] = {}
        for phase in phases:
            if phase.per_unit:
                plans[phase.id] = await plan_phase(
                    ctx_for(phase, unit, key, i), phase, options, unit
                )
        unit_plans.append(UnitPlan(unit=key, phases=plans))
        size += len(unit_plans[-1].model_dump_json())
        check_plan_bytes(size)  # refused as soon as it grows past the limit
    summary = summarize(
        spec, global_plans, unit_plans, max_in_flight, options,
        phases=phases, timing=timing, time_scale=time_scale,
    )  # fmt: skip
    return global_plans, unit_plans, summary


def summarize(
    spec: WorkflowSpec,
    global_plans: Mapping[str, PhasePlan],
    unit_plans: Sequence[UnitPlan],
    max_in_flight: int,
    options: Any,
    *,
    phases: Sequence[PhaseSpec] | None = None,
    timing: TargetTiming | None = None,
    time_scale: float = 1.0,
) -> PlanSummary:
    """Counts per action, the calls, and the duration estimate from the target's
    `timing` (without one: the workflow's `seconds_per_call` per call)."""
    summary = PlanSummary(units=len(unit_plans))
    every = list(global_plans.values()) + [p for u in unit_plans for p in u.phases.values()]
    for p in every:
        if p.action == "conflict":
            summary.conflicts += 1
        else:
            setattr(summary, p.action, getattr(summary, p.action) + 1)
        summary.estimated_calls += p.calls
    est = estimate(
        phases if phases is not None else spec.phases, global_plans, unit_plans,
        calls=summary.estimated_calls, max_in_flight=max_in_flight,
        timing=timing or TargetTiming.per_call(spec.seconds_per_call), time_scale=time_scale,
    )  # fmt: skip
    summary.estimated_seconds = est.seconds
    summary.estimated_range = (est.low, est.high)
    summary.estimated_bound = est.bound
    summary.destructive = spec.destructive or any(p.destructive for p in spec.phases)
    if spec.confirm_text is not None:
        summary.confirm_text = spec.confirm_text(options)
    return summary
