"""Records the engine stores in Redis and returns to every face.

They are pydantic so that the RPC/MCP faces can publish their JSON schema and
the store can validate what it reads back from Redis.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.states import CellState


class JobStatus(StrEnum):
    PLANNING = "PLANNING"
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    DISCARDED = "DISCARDED"
    EXPIRED = "EXPIRED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        JobStatus.COMPLETED,
        JobStatus.PARTIAL,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.DISCARDED,
        JobStatus.EXPIRED,
    }
)
RETRYABLE_STATUSES = frozenset(
    {JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PAUSED}
)


class Attempt(BaseModel):
    """One failed attempt of a cell, kept for the unit detail and audit."""

    n: int
    error: str
    kind: str
    transient: bool
    delay: float | None = None
    at: float


class CellRecord(BaseModel):
    """Persisted state of one (unit, phase) cell (compact field names)."""

    model_config = ConfigDict(populate_by_name=True)

    state: CellState = Field(CellState.PENDING, alias="s")
    attempts: int = Field(0, alias="a")
    started_at: float | None = Field(None, alias="t0")
    ended_at: float | None = Field(None, alias="t1")
    error: str | None = Field(None, alias="e")
    outcome_unknown: bool = Field(False, alias="u")
    failures: int = Field(0, alias="f")
    """Failed attempts that count against the retry budget (not resumes, not 429s)."""


PlanAction = Literal["create", "reuse", "update", "delete", "skip", "conflict", "run"]


class PhasePlan(BaseModel):
    """What one phase will do for one unit (or once, for a global phase)."""

    action: PlanAction = "run"
    resource: str | None = None
    name: str | None = None
    calls: int = 0
    waits: int | None = Field(None, ge=0)
    """Activities this phase waits for one after another (its length on the unit's
    critical path: the duration estimate, the scheduler's priorities); parallel waits
    count once. None: not said (one, for a phase that makes calls)."""
    detail: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class UnitPlan(BaseModel):
    unit: str
    phases: dict[str, PhasePlan]

    @property
    def conflicts(self) -> list[str]:
        return [pid for pid, p in self.phases.items() if p.action == "conflict"]


class PlanSummary(BaseModel):
    units: int
    create: int = 0
    reuse: int = 0
    update: int = 0
    delete: int = 0
    skip: int = 0
    conflicts: int = 0
    run: int = 0
    estimated_calls: int = 0
    estimated_seconds: float = 0.0
    """The run's expected duration (seconds): `engine.estimate`."""
    estimated_range: tuple[float, float] | None = None
    """(low, high) seconds around `estimated_seconds`; None in plans made before it."""
    estimated_bound: str | None = None
    """What the estimate says binds: 'critical path', 'rate limit' or 'in-flight limit'."""
    destructive: bool = False
    confirm_text: str | None = None
    """Destructive plans name what the user must type to confirm (e.g. a venue)."""

    def headline(self) -> str:
        parts = [f"{self.create} to create", f"{self.reuse} to reuse"]
        if self.update:
            parts.append(f"{self.update} to update")
        if self.delete:
            parts.append(f"{self.delete} to delete")
        parts.append(f"{self.conflicts} conflict" + ("" if self.conflicts == 1 else "s"))
        return "Plan: " + ", ".join(parts)

    def estimate_text(self) -> str:
        """'about 5m53s (5m13s to 6m23s, critical path)': what every face prints."""
        text = f"about {span(self.estimated_seconds)}"
        if self.estimated_range is not None:
            low, high = self.estimated_range
            text += f" ({span(low)} to {span(high)}"
            text += f", {self.estimated_bound})" if self.estimated_bound else ")"
        return text


def span(seconds: float) -> str:
    """A duration for people: '42s', '5m53s', '2h05m' (under 10 s: one decimal)."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Plan(BaseModel):
    """Phase 0's result: stored with a digest; confirming must quote the digest."""

    job_id: str
    workflow: str
    digest: str
    created_at: float
    expires_at: float
    summary: PlanSummary
    global_phases: dict[str, PhasePlan] = Field(default_factory=dict)
    units: list[UnitPlan]
    options: dict[str, Any] = Field(default_factory=dict)
    wave: list[str] | None = None
    """The first wave's unit keys: they run, then the job stops for approval."""


class LedgerEntry(BaseModel):
    """A resource the job created (or adopted); cleanup deletes in reverse."""

    seq: int = 0
    unit: str | None
    phase: str
    resource: str
    id: str
    name: str | None = None
    parent: dict[str, str] = Field(default_factory=dict)
    action: Literal["created", "reused", "deleted", "unknown"] = "created"
    at: float = 0.0
    data: dict[str, Any] = Field(default_factory=dict)


class PhaseProgress(BaseModel):
    id: str
    title: str
    per_unit: bool
    counts: dict[str, int]
    total: int


class JobView(BaseModel):
    """Everything a face needs to draw a job's header and phase graph."""

    id: str
    workflow: str
    status: JobStatus
    title: str | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    units_total: int
    units_by_state: dict[str, int]
    phases: list[PhaseProgress]
    transitions_done: int
    transitions_total: int
    progress: float
    elapsed: float | None = None
    throughput: float | None = None
    """Cells finished per second since the run started."""
    eta_seconds: float | None = None
    plan_digest: str | None = None
    plan_expires_at: float | None = None
    plan_summary: PlanSummary | None = None
    error: str | None = None
    cancel_requested: str | None = None
    pause_requested: bool = False
    """An operator paused the job: it rests PAUSED once in-flight work has landed."""
    wave_units: int | None = None
    """Units in the plan's first wave (None: no wave)."""
    wave_gate: bool = False
    """The first wave ran: the job waits for approval (resume with the plan digest)."""
    metrics: dict[str, float] = Field(default_factory=dict)
    simulated: bool = False
    target: str | None = None
    """The backend the job is bound to (planned for), e.g. 'R1 simulator (http://...)'."""
    waiting: str | None = None
    """Set while the job is queued or orphaned and no live worker serves its target."""


class UnitView(BaseModel):
    index: int
    unit: str
    state: str
    """Roll-up: failed, blocked, cancelled, running, succeeded, pending."""
    phases: dict[str, CellRecord]
    values: dict[str, Any] = Field(default_factory=dict)


class UnitDetail(UnitView):
    attempts: dict[str, list[Attempt]] = Field(default_factory=dict)
    plan: dict[str, PhasePlan] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)


class UnitPage(BaseModel):
    total: int
    offset: int
    units: list[UnitView]


class JobListItem(BaseModel):
    id: str
    workflow: str
    status: JobStatus
    created_at: float
    units_total: int
    units_done: int = 0
    units_failed: int = 0
    title: str | None = None


class CleanupSource(BaseModel):
    """What a workflow's cleanup factory gets: the finished job and its ledger."""

    job_id: str
    workflow: str
    options: dict[str, Any]
    unit_keys: list[str]
    ledger: list[LedgerEntry]


class CleanupRequest(BaseModel):
    """The (destructive) job that undoes a source job."""

    workflow: str
    units: list[Any]
    options: dict[str, Any] = Field(default_factory=dict)
    title: str


AuditStatus = Literal["present", "missing", "drifted", "unknown"]


class AuditItem(BaseModel):
    unit: str | None
    resource: str
    id: str | None = None
    name: str | None = None
    status: AuditStatus
    detail: str | None = None


class AuditReport(BaseModel):
    job_id: str
    workflow: str
    checked_at: float
    items: list[AuditItem]
    counts: dict[str, int] = Field(default_factory=dict)

    def count(self) -> AuditReport:
        self.counts = {s: 0 for s in ("present", "missing", "drifted", "unknown")}
        for item in self.items:
            self.counts[item.status] += 1
        return self
