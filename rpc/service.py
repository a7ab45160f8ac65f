"""One service layer behind both remote faces (JSON-RPC 2.0 and MCP).

Every operation is declared once, as an `Operation`: its JSON-RPC method
name, its MCP tool name, a pydantic params model (the input schema of both
faces), a pydantic result model (the MCP output schema and the JSON-RPC
`result`), safety hints and a handler that talks to the `Engine` facade only.

The faces never touch engine internals and never format errors themselves
beyond mapping the engine's stable error `kind`s (see `error_code`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine import Engine
from engine.backoff import store_unavailable
from engine.catalog import WorkflowDescription
from engine.models import (
    AuditReport,
    JobView,
    UnitDetail,
    UnitPage,
)
from engine.tenant_limit import read_limits
from rpc.control_ops import CONTROL_OPERATIONS
from rpc.operation import Operation
from rpc.output_ops import OUTPUT_OPERATIONS
from rpc.principal import current
from rpc.schemas import (
    CancelParams,
    ConfirmParams,
    EventPage,
    EventsParams,
    Health,
    JobList,
    JobParams,
    ListJobsParams,
    NoParams,
    Params,
    PlanParams,
    PlanResult,
    RateLimits,
    RetryParams,
    UnitParams,
    UnitsParams,
    WaitParams,
    WorkflowList,
    WorkflowParams,
    plan_result,
)

# -- operations -------------------------------------------------------------------------


async def _workflows(engine: Engine, p: NoParams) -> WorkflowList:
    return WorkflowList(workflows=engine.workflows())


async def _describe(engine: Engine, p: WorkflowParams) -> WorkflowDescription:
    return engine.describe(p.workflow)


async def _plan(engine: Engine, p: PlanParams) -> PlanResult:
    units, options = p.units or [], p.options
    if p.input_text is not None:  # the CLI's loaders; given options win over implied ones
        parsed = await engine.parse_input(p.workflow, p.input_text, p.format)
        units, options = parsed.units, {**parsed.options, **(p.options or {})}
    plan = await engine.plan(
        p.workflow,
        units,
        options,
        title=p.title,
        max_failed_units=p.max_failed_units,
        on_max_failed=p.on_max_failed,
        wave=p.wave,
        principal=current(),
    )
    return plan_result(plan, p.include_units)


async def _confirm(engine: Engine, p: ConfirmParams) -> JobView:
    return await engine.confirm(
        p.job_id, p.digest, confirm_text=p.confirm_text, principal=current()
    )


async def _discard(engine: Engine, p: JobParams) -> JobView:
    return await engine.discard(p.job_id, principal=current())


async def _cancel(engine: Engine, p: CancelParams) -> JobView:
    return await engine.cancel(p.job_id, hard=p.mode == "hard", principal=current())


async def _retry(engine: Engine, p: RetryParams) -> JobView:
    return await engine.retry(p.job_id, p.units, principal=current())


async def _cleanup(engine: Engine, p: JobParams) -> PlanResult:
    return plan_result(await engine.cleanup(p.job_id, principal=current()), False)


async def _audit(engine: Engine, p: JobParams) -> AuditReport:
    return await engine.audit(p.job_id)


async def _get(engine: Engine, p: JobParams) -> JobView:
    return await engine.get(p.job_id)


async def _units(engine: Engine, p: UnitsParams) -> UnitPage:
    return await engine.units(
        p.job_id, state=p.state, search=p.search, phase=p.phase, offset=p.offset, limit=p.limit
    )


async def _unit(engine: Engine, p: UnitParams) -> UnitDetail:
    return await engine.unit(p.job_id, p.unit)


async def _events(engine: Engine, p: EventsParams) -> EventPage:
    records = await engine.events(p.job_id, after=p.after, limit=p.limit)
    return EventPage(events=records, cursor=records[-1].cursor if records else p.after)


async def _wait(engine: Engine, p: WaitParams) -> JobView:
    return await engine.wait(p.job_id, timeout=p.timeout)


async def _list(engine: Engine, p: ListJobsParams) -> JobList:
    status = p.status.value if p.status else None
    return JobList(jobs=await engine.list_jobs(offset=p.offset, limit=p.limit, status=status))


async def _health(engine: Engine, p: NoParams) -> Health:
    h = await engine.health()
    return Health(
        ok=h.get("redis") == "ok",
        redis=str(h.get("redis")),
        redis_ms=float(h.get("redis_ms", 0.0)),
        worker=str(h.get("worker")),
        running_jobs=list(h.get("running_jobs", [])),
        workflows=list(h.get("workflows", [])),
    )


async def _rate_limits(engine: Engine, p: NoParams) -> RateLimits:
    return RateLimits(limits=await read_limits(engine.redis, engine.config.prefix))


SHOW_PLAN = (
    "Nothing is written until the plan is confirmed: show the plan (headline, conflicts, "
    "estimated calls) to your user and confirm only after they explicitly agree."
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "workflows.list", "list_workflows", "List workflows",
        "List the workflows this server can plan and run.",
        NoParams, WorkflowList, _workflows, read_only=True, idempotent=True,
    ),
    Operation(
        "workflows.describe", "describe_workflow", "Describe a workflow",
        "Describe a workflow: its phases and dependency graph, and the JSON schemas of its "
        "units and options (use them to build plan_job's input).",
        WorkflowParams, WorkflowDescription, _describe, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.plan", "plan_job", "Plan a job",
        "Plan a job (Phase 0): reads the target's current inventory, decides per unit what to "
        "create, reuse or what conflicts, and stores the plan awaiting confirmation with a "
        f"digest and an expiry. Writes nothing to the target. {SHOW_PLAN} Then call "
        "confirm_job with the job_id and digest, or discard_plan.",
        PlanParams, PlanResult, _plan,
    ),
    Operation(
        "jobs.confirm", "confirm_job", "Confirm a plan and run it",
        "Confirm a reviewed plan: the job starts writing to the target. Quote the digest "
        "returned by plan_job / plan_cleanup; a different, expired or conflicting plan is "
        "refused. Only call this after the user has seen the plan and agreed; destructive "
        "plans also need the confirm_text the user typed. Where the client supports it the "
        "server asks the user to confirm too.",
        ConfirmParams, JobView, _confirm, destructive=True,
    ),
    Operation(
        "jobs.discard", "discard_plan", "Discard a plan",
        "Discard a plan awaiting confirmation (nothing was written).",
        JobParams, JobView, _discard, idempotent=False,
    ),
    Operation(
        "jobs.cancel", "cancel_job", "Cancel a job",
        "Cancel a job. graceful: start nothing new and let in-flight calls land; hard: stop "
        "now, in-flight activities are recorded as outcome-unknown. Ask the user first.",
        CancelParams, JobView, _cancel, destructive=True,
    ),
    Operation(
        "jobs.retry", "retry_job", "Retry failed units",
        "Re-run the failed, blocked and cancelled units of a PARTIAL, FAILED, CANCELLED or "
        "PAUSED job (all of them, or the given unit keys). Executors are idempotent.",
        RetryParams, JobView, _retry,
    ),
    Operation(
        "jobs.cleanup", "plan_cleanup", "Plan the cleanup of a job",
        "Plan (not run) the deletion of everything a finished job created, in reverse "
        "dependency order. Returns a destructive plan: show it to the user, and confirm it "
        "with confirm_job only with the digest and the confirm_text the user typed.",
        JobParams, PlanResult, _cleanup, destructive=True,
    ),
    Operation(
        "jobs.audit", "audit_job", "Audit a job",
        "Read the target back: for every resource the job created, whether it is present, "
        "missing or drifted.",
        JobParams, AuditReport, _audit, read_only=True,
    ),
    Operation(
        "jobs.get", "get_job", "Get a job",
        "A job's status, per-phase progress, unit counts, throughput, ETA and plan summary.",
        JobParams, JobView, _get, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.units", "list_units", "List a job's units",
        "A page of a job's units with per-phase states; filter by state, phase or key.",
        UnitsParams, UnitPage, _units, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.unit", "get_unit", "Get one unit",
        "One unit in detail: per-phase states, attempts and errors, plan, resolved values "
        "(secrets masked).",
        UnitParams, UnitDetail, _unit, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.events", "get_events", "Read a job's events",
        "A job's events after a cursor (omit it to start from the beginning); pass the "
        "returned cursor as `after` to continue.",
        EventsParams, EventPage, _events, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.wait", "wait_for_job", "Wait for a job",
        "Wait (up to timeout seconds) until the job finishes, pauses or awaits confirmation; "
        "returns the job either way. Reports progress while waiting.",
        WaitParams, JobView, _wait, read_only=True, idempotent=True,
    ),
    Operation(
        "jobs.list", "list_jobs", "List jobs",
        "Recent jobs, newest first, optionally filtered by status.",
        ListJobsParams, JobList, _list, read_only=True, idempotent=True,
    ),
    Operation(
        "engine.health", "health", "Engine health",
        "Redis reachability and latency, this worker and its running jobs.",
        NoParams, Health, _health, read_only=True, idempotent=True,
    ),
    Operation(
        "engine.rate_limits", "rate_limits", "Tenant rate limits",
        "The tenant rate limits shared by every worker, per tenant and R1 service family: "
        "calls, waits (count and seconds), 429s, and the current rate against the documented "
        "one (calls per second; it halves on 429s and recovers).",
        NoParams, RateLimits, _rate_limits, read_only=True, idempotent=True,
    ),
    *OUTPUT_OPERATIONS,
)  # fmt: skip
OPERATIONS = (*OPERATIONS, *CONTROL_OPERATIONS)

BY_METHOD = {op.method: op for op in OPERATIONS}
BY_TOOL = {op.tool: op for op in OPERATIONS}


def parse_params(op: Operation, raw: Any) -> Params:
    """Validate raw params (raises `ValidationError`)."""
    return op.params.model_validate({} if raw is None else raw)


async def call(engine: Engine, op: Operation, params: Params) -> BaseModel:
    """Run the operation; Redis unreachable -> RedisUnavailable ("store unavailable")."""
    with store_unavailable():
        return await op.handler(engine, params)
