"""Typed, versioned job events.

Every state change of a job is appended to its Redis Stream as one of these;
the stream id is the cursor faces use to replay then tail. `v` is bumped when
a field changes meaning, so a reader can tell old entries from new.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

EVENT_VERSION = 1


class _Event(BaseModel):
    v: int = EVENT_VERSION
    ts: float
    job_id: str


PRINCIPAL_DOC = (
    "Who did it: 'local:<user>' (CLI/TUI), 'token:<name>' (served with a bearer token), "
    "'loopback:<user>' (served on loopback without a token); None when unknown."
)


class _Acted(_Event):
    """An event a person or a client caused (plan, confirm, cancel, retry, discard)."""

    principal: str | None = Field(None, description=PRINCIPAL_DOC)


class JobPlanned(_Acted):
    type: Literal["job_planned"] = "job_planned"
    digest: str
    headline: str
    conflicts: int


class JobConfirmed(_Acted):
    type: Literal["job_confirmed"] = "job_confirmed"
    digest: str


class JobStarted(_Event):
    type: Literal["job_started"] = "job_started"
    worker: str
    fence: int
    resumed: bool = False


class JobStatusChanged(_Acted):
    type: Literal["job_status"] = "job_status"
    status: str
    reason: str | None = None


class JobFinished(_Event):
    type: Literal["job_finished"] = "job_finished"
    status: str
    units_by_state: dict[str, int] = Field(default_factory=dict)
    error: str | None = None


class CancelRequested(_Acted):
    type: Literal["cancel_requested"] = "cancel_requested"
    mode: Literal["graceful", "hard"]


class PauseRequested(_Acted):
    """An operator paused the job: in-flight work lands, nothing new starts."""

    type: Literal["pause_requested"] = "pause_requested"


class _CellEvent(_Event):
    unit: str | None
    """Unit key; None for a global phase."""
    phase: str


class PhaseStarted(_CellEvent):
    type: Literal["phase_started"] = "phase_started"
    attempt: int = 1


class PhaseWaiting(_CellEvent):
    type: Literal["phase_waiting"] = "phase_waiting"
    activity: str


class PhaseSucceeded(_CellEvent):
    type: Literal["phase_succeeded"] = "phase_succeeded"
    duration: float | None = None


class PhaseSkipped(_CellEvent):
    type: Literal["phase_skipped"] = "phase_skipped"


class PhaseFailed(_CellEvent):
    type: Literal["phase_failed"] = "phase_failed"
    error: str
    kind: str
    attempt: int
    critical: bool = True


class PhaseRetrying(_CellEvent):
    type: Literal["phase_retrying"] = "phase_retrying"
    attempt: int
    error: str
    kind: str
    delay: float


class PhaseBlocked(_CellEvent):
    type: Literal["phase_blocked"] = "phase_blocked"
    by: str


class PhaseCancelled(_CellEvent):
    type: Literal["phase_cancelled"] = "phase_cancelled"
    outcome_unknown: bool = False


class RateLimited(_Event):
    type: Literal["rate_limited"] = "rate_limited"
    retry_after: float | None = None
    unit: str | None = None
    phase: str | None = None


class ResourceRecorded(_Event):
    type: Literal["resource_recorded"] = "resource_recorded"
    unit: str | None
    phase: str
    resource: str
    id: str
    name: str | None = None
    action: str = "created"


class Log(_Event):
    type: Literal["log"] = "log"
    level: Literal["info", "warning", "error"] = "info"
    message: str
    unit: str | None = None
    phase: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


Event = Annotated[
    JobPlanned
    | JobConfirmed
    | JobStarted
    | JobStatusChanged
    | JobFinished
    | CancelRequested
    | PauseRequested
    | PhaseStarted
    | PhaseWaiting
    | PhaseSucceeded
    | PhaseSkipped
    | PhaseFailed
    | PhaseRetrying
    | PhaseBlocked
    | PhaseCancelled
    | RateLimited
    | ResourceRecorded
    | Log,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class EventRecord(BaseModel):
    """An event with its stream id (the cursor to resume after it)."""

    cursor: str
    event: Event


def parse_event(raw: str | bytes) -> Event:
    return EVENT_ADAPTER.validate_json(raw)
