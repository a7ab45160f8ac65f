"""One service layer behind both remote faces (JSON-RPC 2.0 and MCP).

Every operation is declared once, as an `Operation`: its JSON-RPC method
name, its MCP tool name, a pydantic params model (the input schema of both
faces), a pydantic result model (the MCP output schema and the JSON-RPC
`result`), safety hints and a handler that talks to the `Engine` facade only.

The faces never touch engine internals and never format errors themselves
beyond mapping the engine's stable error `kind`s (see `error_code`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine import Engine
from engine.catalog import WorkflowDescription, WorkflowInfo
from engine.errors import PhasegridError
from engine.events import EventRecord
from engine.models import (
    AuditReport,
    JobListItem,
    JobStatus,
    JobView,
    PhasePlan,
    Plan,
    PlanSummary,
    UnitDetail,
    UnitPage,
    UnitPlan,
)

JobId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The job id returned by plan_job / jobs.plan.",
    ),
]

MAX_UNITS = 20_000
MAX_WAIT_SECONDS = 600.0


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- params -----------------------------------------------------------------------------


class NoParams(Params):
    pass


class WorkflowParams(Params):
    workflow: str = Field(min_length=1, max_length=100, description="Workflow name.")


class PlanParams(Params):
    workflow: str = Field(
        min_length=1, max_length=100, description="Workflow name (see list_workflows)."
    )
    units: list[dict[str, Any]] = Field(
        max_length=MAX_UNITS,
        description="The units to roll out, each an object matching the workflow's unit_schema "
        "(see describe_workflow).",
    )
    options: dict[str, Any] | None = Field(
        None, description="Workflow options matching its options_schema."
    )
    title: str | None = Field(None, max_length=200, description="A title for the job.")
    max_failed_units: int | None = Field(
        None, ge=0, description="Pause or abort once more units than this have failed."
    )
    on_max_failed: Literal["abort", "pause"] = "abort"
    include_units: bool = Field(
        False, description="Return the per-unit plan too (large); conflicts are always returned."
    )


class JobParams(Params):
    job_id: JobId


class ConfirmParams(Params):
    job_id: JobId
    digest: str = Field(
        min_length=1,
        max_length=128,
        description="The plan digest exactly as returned by plan_job / plan_cleanup.",
    )
    confirm_text: str | None = Field(
        None,
        max_length=200,
        description="Destructive plans only: the text the plan's summary.confirm_text names, "
        "typed by the user.",
    )


class CancelParams(Params):
    job_id: JobId
    mode: Literal["graceful", "hard"] = Field(
        "graceful",
        description="graceful: start nothing new and let in-flight calls land; hard: stop now "
        "(in-flight work is recorded as outcome-unknown).",
    )


class RetryParams(Params):
    job_id: JobId
    units: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=MAX_UNITS, description="Unit keys to retry (default: every failed unit)."
    )


CellStateName = Literal[
    "pending", "running", "waiting", "succeeded", "failed", "skipped", "blocked", "cancelled"
]


class UnitsParams(Params):
    job_id: JobId
    state: CellStateName | None = Field(
        None, description="Only units in this state (or, with `phase`, this phase state)."
    )
    search: str | None = Field(None, max_length=200, description="Substring of the unit key.")
    phase: str | None = Field(None, max_length=100, description="Filter on this phase's state.")
    offset: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)


class UnitParams(Params):
    job_id: JobId
    unit: str = Field(min_length=1, max_length=200, description="The unit key.")


class EventsParams(Params):
    job_id: JobId
    after: str | None = Field(
        None,
        max_length=64,
        pattern=r"^\d+-\d+$",
        description="Cursor: return events after this one (the `cursor` of a previous call).",
    )
    limit: int = Field(200, ge=1, le=1000)


class WaitParams(Params):
    job_id: JobId
    timeout: float = Field(
        30.0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait at most; returns earlier when the job finishes, pauses "
        "or awaits confirmation.",
    )


class ListJobsParams(Params):
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=500)
    status: JobStatus | None = None


# -- results ----------------------------------------------------------------------------


class WorkflowList(BaseModel):
    workflows: list[WorkflowInfo]


class Conflict(BaseModel):
    unit: str | None
    """None for a global phase."""
    phase: str
    detail: str | None = None


class PlanResult(BaseModel):
    job_id: str
    workflow: str
    digest: str
    """Quote this digest to confirm exactly this plan."""
    headline: str
    summary: PlanSummary
    created_at: float
    expires_at: float
    conflicts: list[Conflict]
    conflicts_total: int
    global_phases: dict[str, PhasePlan]
    options: dict[str, Any]
    units: list[UnitPlan] | None = None
    next_step: str


class EventPage(BaseModel):
    events: list[EventRecord]
    cursor: str | None
    """Pass as `after` to continue from here."""


class JobList(BaseModel):
    jobs: list[JobListItem]


class Health(BaseModel):
    ok: bool
    redis: str
    redis_ms: float
    worker: str
    running_jobs: list[str]
    workflows: list[str]


MAX_CONFLICTS = 100


def plan_result(plan: Plan, include_units: bool) -> PlanResult:
    conflicts = [
        Conflict(unit=None, phase=pid, detail=p.detail)
        for pid, p in plan.global_phases.items()
        if p.action == "conflict"
    ]
    conflicts += [
        Conflict(unit=u.unit, phase=pid, detail=p.detail)
        for u in plan.units
        for pid, p in u.phases.items()
        if p.action == "conflict"
    ]
    s = plan.summary
    if s.conflicts or conflicts:
        step = "The plan has conflicts: resolve them (or change the input) and plan again."
    elif s.destructive:
        step = (
            "DESTRUCTIVE: show this plan to the user; confirm only after the user types "
            f"{s.confirm_text!r} (pass it as confirm_text with the digest)."
        )
    else:
        step = "Show this plan to the user; confirm with the job_id and digest once they agree."
    return PlanResult(
        job_id=plan.job_id,
        workflow=plan.workflow,
        digest=plan.digest,
        headline=s.headline(),
        summary=s,
        created_at=plan.created_at,
        expires_at=plan.expires_at,
        conflicts=conflicts[:MAX_CONFLICTS],
        conflicts_total=len(conflicts),
        global_phases=plan.global_phases,
        options=plan.options,
        units=plan.units if include_units else None,
        next_step=step,
    )


# -- operations -------------------------------------------------------------------------

Handler = Callable[[Engine, Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Operation:
    method: str
    """JSON-RPC method name."""
    tool: str
    """MCP tool name."""
    title: str
    description: str
    params: type[Params]
    result: type[BaseModel]
    handler: Handler
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


async def _workflows(engine: Engine, p: NoParams) -> WorkflowList:
    return WorkflowList(workflows=engine.workflows())


async def _describe(engine: Engine, p: WorkflowParams) -> WorkflowDescription:
    return engine.describe(p.workflow)


async def _plan(engine: Engine, p: PlanParams) -> PlanResult:
    plan = await engine.plan(
        p.workflow,
        p.units,
        p.options,
        title=p.title,
        max_failed_units=p.max_failed_units,
        on_max_failed=p.on_max_failed,
    )
    return plan_result(plan, p.include_units)


async def _confirm(engine: Engine, p: ConfirmParams) -> JobView:
    return await engine.confirm(p.job_id, p.digest, confirm_text=p.confirm_text)


async def _discard(engine: Engine, p: JobParams) -> JobView:
    return await engine.discard(p.job_id)


async def _cancel(engine: Engine, p: CancelParams) -> JobView:
    return await engine.cancel(p.job_id, hard=p.mode == "hard")


async def _retry(engine: Engine, p: RetryParams) -> JobView:
    return await engine.retry(p.job_id, p.units)


async def _cleanup(engine: Engine, p: JobParams) -> PlanResult:
    return plan_result(await engine.cleanup(p.job_id), False)


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
)  # fmt: skip

BY_METHOD = {op.method: op for op in OPERATIONS}
BY_TOOL = {op.tool: op for op in OPERATIONS}


# -- errors -----------------------------------------------------------------------------

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

ERROR_CODES: dict[str, int] = {
    "invalid_input": INVALID_PARAMS,
    "not_found": -32004,
    "workflow_not_found": -32005,
    "wrong_state": -32009,
    "digest_mismatch": -32010,
    "plan_expired": -32011,
    "conflicts_present": -32012,
    "confirmation_required": -32013,
    "not_confirmed": -32014,
    "redis_unavailable": -32050,
    "invalid_workflow": -32060,
}
"""Stable application error codes, keyed by the engine's error `kind`."""


def error_code(kind: str) -> int:
    return ERROR_CODES.get(kind, -32000)


class FieldError(BaseModel):
    path: str
    message: str


_PATH_RE = re.compile(r"^([A-Za-z_][\w.\[\]-]*):\s*(.+)$")


def validation_errors(exc: ValidationError) -> list[FieldError]:
    """Field paths and messages only: the rejected values are never echoed."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        out.append(FieldError(path=path or "params", message=err["msg"]))
    return out


def detail_errors(exc: PhasegridError, prefix: str = "") -> list[FieldError]:
    """The engine's located `details` (`units[3].vlan: ...`) as field errors."""
    out = []
    for line in exc.details:
        m = _PATH_RE.match(line)
        if m:
            out.append(FieldError(path=prefix + m.group(1), message=m.group(2)))
        else:
            out.append(FieldError(path=prefix or "params", message=line))
    return out


def parse_params(op: Operation, raw: Any) -> Params:
    """Validate raw params (raises `ValidationError`)."""
    return op.params.model_validate({} if raw is None else raw)


async def call(engine: Engine, op: Operation, params: Params) -> BaseModel:
    return await op.handler(engine, params)
