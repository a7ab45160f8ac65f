"""Workflow definitions: a workflow is a DAG of phases over a list of units.

Phases are either per unit (one cell per unit) or global (one cell per job).
Validation happens at registration, so a definition that could leave a job
unable to finish (a cycle, a dangling dependency, an input nobody provides)
never reaches a run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from engine.errors import SpecError
from engine.models import AuditReport, CleanupRequest, CleanupSource, LedgerEntry, PhasePlan

if TYPE_CHECKING:
    from engine.context import PhaseContext, PlanContext


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: delay = U(0, min(cap, base * 2**(n-1)))."""

    max_attempts: int = 5
    """Failed attempts before the cell fails; a resume after a crash and a 429 spend none."""
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_limit_max_wait: float = 1800.0
    """Rate limiting is waiting, not failing: a cell fails on 429s only once it has
    been answered nothing but 429 for this many seconds."""
    time_scale: float = 1.0
    """Our seconds per target second of a Retry-After; the engine sets it when it
    scales the policy to a time-scaled target (`engine.retry.scaled`)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise SpecError("RetryPolicy.max_attempts must be >= 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.rate_limit_max_wait < 0:
            raise SpecError("RetryPolicy delays must be >= 0")
        if self.time_scale <= 0:
            raise SpecError("RetryPolicy.time_scale must be > 0")

    def ceiling(self, attempt: int) -> float:
        """Upper bound of the backoff after failed attempt number `attempt`."""
        return min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))


@runtime_checkable
class PhaseExecutor(Protocol):
    """Does one phase for one unit. `run` must be idempotent (find-or-create)."""

    async def run(self, ctx: PhaseContext) -> dict[str, Any] | None: ...


@runtime_checkable
class PlanningExecutor(Protocol):
    async def plan(self, ctx: PlanContext) -> PhasePlan | None: ...


SkipIf = Callable[[Any, Any], bool]
"""`skip_if(options, unit) -> bool`; unit is None for a global phase."""


@dataclass(frozen=True)
class PhaseSpec:
    id: str
    title: str
    executor: PhaseExecutor
    depends_on: tuple[str, ...] = ()
    per_unit: bool = True
    critical: bool = True
    skip_if: SkipIf | None = None
    concurrency: int | None = None
    retry: RetryPolicy | None = None
    inputs: tuple[str, ...] = ()
    """Names this phase reads from the unit's resolved values."""
    outputs: tuple[str, ...] = ()
    """Names this phase's `run` returns, merged into the resolved values."""
    destructive: bool = False


InventoryLoader = Callable[["PlanContext"], Awaitable[Any]]


@dataclass
class AuditContext:
    """What a workflow's audit reads: the job's ledger and resolved values."""

    job_id: str
    workflow: str
    options: Any
    unit_keys: list[str]
    values: dict[str, dict[str, Any]]
    """Unit key (or 'g' for global phases) -> resolved values."""
    ledger: list[LedgerEntry]
    resources: Any
    clock: Callable[[], float]


CleanupFactory = Callable[[CleanupSource], CleanupRequest]
TextParser = Callable[[str, str], tuple[list[Any], dict[str, Any]]]
"""`parse_text(text, format) -> (units, options the input implies)`: an input file's
content as the user has it, read like the CLI reads the file (`Engine.parse_input`)."""
Auditor = Callable[[AuditContext], Awaitable[AuditReport]]


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    title: str
    phases: tuple[PhaseSpec, ...]
    unit_model: type[BaseModel] | None = None
    options_model: type[BaseModel] | None = None
    description: str = ""
    inventory: InventoryLoader | None = None
    """Phase 0: read the target's current state once for the whole job."""
    unit_key: Callable[[Any, int], str] | None = None
    destructive: bool = False
    confirm_text: Callable[[Any], str | None] | None = None
    """For destructive workflows: what the user must type to confirm."""
    seconds_per_call: float = 0.3
    secret_fields: tuple[str, ...] = ()
    cleanup: CleanupFactory | None = None
    """Builds the job that deletes what a finished job of this workflow created."""
    audit: Auditor | None = None
    """Reads the target back and reports present / missing / drifted per unit."""
    parse_text: TextParser | None = None
    """Reads the workflow's input file content (CSV, JSON...) given as text; raises
    InputError with located details, secrets masked."""
    extra: dict[str, Any] = field(default_factory=dict)

    def phase(self, phase_id: str) -> PhaseSpec:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def key_of(self, unit: Any, index: int) -> str:
        if self.unit_key is not None:
            return str(self.unit_key(unit, index))
        key = getattr(unit, "key", None)
        return str(key) if key is not None else str(index)
