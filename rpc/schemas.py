"""The params and result models both remote faces share: the JSON-RPC params
and results and the MCP tools' input and output schemas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from engine.bounds import (
    MAX_INPUT_BYTES,
    MAX_JSON_DEPTH,
    MAX_OFFSET,
    MAX_UNITS_PER_JOB,
    stream_id_ok,
    too_deep,
)
from engine.catalog import WorkflowInfo
from engine.events import EventRecord
from engine.models import (
    JobListItem,
    JobStatus,
    PhasePlan,
    Plan,
    PlanSummary,
    UnitPlan,
)
from engine.tenant_limit import LimitState
from engine.text_input import InputFormat
from engine.waves import Wave

JobId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The job id returned by plan_job / jobs.plan.",
    ),
]

MAX_UNITS = MAX_UNITS_PER_JOB
MAX_WAIT_SECONDS = 600.0

Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def _cursor(value: str) -> str:
    if not stream_id_ok(value):
        raise ValueError("must be an event cursor <ms>-<seq>, each part below 2^64")
    return value


Cursor = Annotated[str, Field(max_length=41), AfterValidator(_cursor)]
"""An event cursor: a Redis stream id, validated here so Redis never sees a bad one."""


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _depth(cls, data: Any) -> Any:
        """The same nesting bound for JSON-RPC and MCP (whose SDK parses the body itself)."""
        if too_deep(data, MAX_JSON_DEPTH):
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        return data


# -- params -----------------------------------------------------------------------------


class NoParams(Params):
    pass


class WorkflowParams(Params):
    workflow: str = Field(min_length=1, max_length=100, description="Workflow name.")


class PlanParams(Params):
    """Give the units one of two ways: `input_text` (the user's input file as it is) or
    `units` (objects of the workflow's unit_schema). Exactly one of them."""

    workflow: str = Field(
        min_length=1, max_length=100, description="Workflow name (see list_workflows)."
    )
    units: list[dict[str, Any]] | None = Field(
        None,
        max_length=MAX_UNITS,
        description="The units as objects matching the workflow's unit_schema (see "
        'describe_workflow), e.g. [{"unit_number": "101", "ap_serials": ["921000000001"], '
        '"ssid_name": "Unit-101", "default_vlan": 101}]. The CSV column names are accepted '
        "too (ap_identifiers for ap_serials). Give either units or input_text, not both; "
        "if you hold the user's file, pass it as input_text instead.",
    )
    options: dict[str, Any] | None = Field(
        None,
        description="Workflow options matching its options_schema (see describe_workflow); "
        "default: the schema's defaults. With input_text, these override what the input "
        "implies.",
    )
    title: str | None = Field(None, max_length=200, description="A title for the job.")
    max_failed_units: int | None = Field(
        None, ge=0, description="Pause or abort once more units than this have failed."
    )
    on_max_failed: Literal["abort", "pause"] = Field(
        "abort",
        description='What happens past max_failed_units: "abort" (default) or "pause".',
    )
    include_units: bool = Field(
        False, description="Return the per-unit plan too (large); conflicts are always returned."
    )
    input_text: str | None = Field(
        None,
        max_length=MAX_INPUT_BYTES,
        description="The user's input file content, verbatim, instead of units: a per-unit "
        "CSV (header unit_number,ap_identifiers,ssid_name,ssid_password,security_type,"
        "default_vlan; ap_identifiers ';'-separated), a JSON unit list, or a Cloudpath DPSK "
        f"export (cloudpath_dpsk). At most {MAX_INPUT_BYTES // (1024 * 1024)} MiB. Read by "
        "the same loaders as the CLI; errors name the line and column (secrets are never "
        "echoed). Options the input implies (a Cloudpath export's pool) apply unless "
        "`options` sets them.",
    )
    format: InputFormat = Field(
        "auto",
        description='How to read input_text: "csv", "json" (a unit list), "cloudpath" (a '
        'Cloudpath export) or "auto" (default: JSON if it starts with { or [, else CSV).',
    )
    wave: Wave | None = Field(
        None,
        description='Roll out carefully: run a first wave ({"first": 5} or {"units": ["101", '
        '"102"]}), then the job stops PAUSED with wave_gate=true; show the user the wave\'s '
        "results (list_units) and, once they agree, resume_job with the plan digest runs the "
        "rest. Default: every unit at once.",
    )

    @model_validator(mode="after")
    def _one_input(self) -> PlanParams:
        if (self.units is None) == (self.input_text is None):
            raise ValueError(
                "give exactly one of units or input_text (unit objects, or the input file's "
                "content)"
            )
        return self


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
    offset: Offset = 0
    limit: int = Field(100, ge=1, le=1000)


class UnitParams(Params):
    job_id: JobId
    unit: str = Field(min_length=1, max_length=200, description="The unit key.")


class EventsParams(Params):
    job_id: JobId
    after: Cursor | None = Field(
        None,
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
    offset: Offset = 0
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
    wave: list[str] | None = None
    """The first wave's unit keys (None: no wave)."""
    next_step: str


class EventPage(BaseModel):
    events: list[EventRecord]
    cursor: str | None
    """Pass as `after` to continue from here."""


class JobList(BaseModel):
    jobs: list[JobListItem]


class RateLimits(BaseModel):
    """Every tenant rate limiter shared through this Redis (per tenant and R1 family)."""

    limits: list[LimitState]


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
        wave=plan.wave,
        next_step=step,
    )
