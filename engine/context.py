"""What a phase executor sees: its unit, options, resolved values and the
engine services it may use (activity waits, the ledger, logs, metrics)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.activities import ActivityBackend, ActivityResult
from engine.events import Event, Log, RateLimited, ResourceRecorded
from engine.inflight import Slot
from engine.models import LedgerEntry, PhasePlan
from engine.spec import PhaseSpec


@dataclass
class PlanContext:
    """Phase 0: decide create / reuse / conflict without writing anything."""

    job_id: str
    workflow: str
    options: Any
    resources: Mapping[str, Any]
    inventory: Any = None
    unit: Any = None
    unit_key: str | None = None
    unit_index: int | None = None
    phase: PhaseSpec | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    """Scratch space shared by every unit's plan (e.g. names claimed so far)."""


class CellServices(Protocol):
    """The engine side of a `PhaseContext`: all an attempt may do beyond computing
    its outputs. The cell runner implements it; a context never sees the scheduler."""

    job_id: str
    options: Any
    resources: Mapping[str, Any]

    def now(self) -> float: ...

    def values_of(self, row: int | None) -> dict[str, Any]:
        """Resolved values: global phases' outputs overlaid by the unit's (if any)."""
        ...

    def emit(self, event: Event) -> None: ...

    def next_ledger_seq(self) -> int: ...

    def write_ledger(self, entry: LedgerEntry) -> None: ...

    def incr(self, metric: str, n: float) -> None: ...

    async def wait_activity(
        self,
        cell: tuple[int, int],
        slot: Slot,
        backend: ActivityBackend,
        activity_id: str,
        timeout: float | None,
    ) -> ActivityResult:
        """Wait for an activity with the cell shown waiting and its slot let go."""
        ...

    async def wait_activities(
        self,
        cell: tuple[int, int],
        slot: Slot,
        backend: ActivityBackend,
        activity_ids: Sequence[str],
        timeout: float | None,
    ) -> list[ActivityResult]:
        """`wait_activity` for several at once: the slot is let go once and the
        cell resumes when the last one is done (results in the order asked)."""
        ...


class PhaseContext:
    """Handed to `executor.run(ctx)` for one attempt of one cell."""

    def __init__(
        self,
        services: CellServices,
        phase: PhaseSpec,
        cell: tuple[int, int],
        attempt: int,
        slot: Slot,
        *,
        unit_key: str | None = None,
        unit: Any = None,
        first_try: bool = False,
        plan: PhasePlan | None = None,
    ) -> None:
        self._services = services
        self._cell = cell
        """(row, phase index) in the scheduler's cell book."""
        self._slot = slot
        self.attempt = attempt
        self.first_try = first_try
        """True only on the cell's first attempt ever: not on a retry, not after a
        resume (an earlier, interrupted attempt's calls may have landed). A resource
        found when `first_try` is False may be this job's own doing."""
        self.phase = phase
        self.job_id: str = services.job_id
        self.options: Any = services.options
        self.resources: Mapping[str, Any] = services.resources
        self.unit_index: int | None = cell[0] if phase.per_unit else None
        self.unit_key: str | None = unit_key if phase.per_unit else None
        self.unit: Any = unit if phase.per_unit else None
        self.plan: PhasePlan | None = plan
        """What Phase 0 decided for this cell (create / reuse with the id found /
        update), the confirmed plan's; None for jobs without one (tests, old jobs)."""

    @property
    def values(self) -> dict[str, Any]:
        """Resolved values: global phases' outputs overlaid by this unit's."""
        return self._services.values_of(self.unit_index)

    def now(self) -> float:
        return self._services.now()

    async def wait_activity(
        self, backend: ActivityBackend, activity_id: str, timeout: float | None = None
    ) -> ActivityResult:
        """Wait for an async activity without holding an in-flight slot."""
        return await self._services.wait_activity(
            self._cell, self._slot, backend, activity_id, timeout
        )

    async def wait_activities(
        self, backend: ActivityBackend, activity_ids: Sequence[str], timeout: float | None = None
    ) -> list[ActivityResult]:
        """Wait for several activities together (not one after another): the cell
        resumes once every one is SUCCESS or FAIL; results in the order given."""
        if not activity_ids:
            return []
        return await self._services.wait_activities(
            self._cell, self._slot, backend, list(activity_ids), timeout
        )

    def record(
        self,
        resource: str,
        id: str,
        *,
        name: str | None = None,
        parent: dict[str, str] | None = None,
        action: str = "created",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Add a resource to the job's ledger (cleanup deletes it in reverse)."""
        services = self._services
        entry = LedgerEntry(
            seq=services.next_ledger_seq(), unit=self.unit_key, phase=self.phase.id,
            resource=resource, id=id, name=name, parent=parent or {},
            action=action,  # type: ignore[arg-type]
            at=services.now(), data=data or {},
        )  # fmt: skip
        services.write_ledger(entry)
        services.emit(
            ResourceRecorded(
                ts=entry.at, job_id=self.job_id, unit=self.unit_key, phase=self.phase.id,
                resource=resource, id=id, name=name, action=action,
            )
        )  # fmt: skip
        self.incr(f"{action}:{resource}")

    def log(self, message: str, level: str = "info", **data: Any) -> None:
        self._services.emit(
            Log(
                ts=self._services.now(), job_id=self.job_id, level=level,  # type: ignore[arg-type]
                message=message, unit=self.unit_key, phase=self.phase.id, data=data,
            )
        )  # fmt: skip

    def incr(self, metric: str, n: float = 1) -> None:
        self._services.incr(metric, n)

    def rate_limited(self, retry_after: float | None = None) -> None:
        """Report a 429 (counted and shown as an event)."""
        self.incr("rate_limited")
        self._services.emit(
            RateLimited(
                ts=self._services.now(), job_id=self.job_id, retry_after=retry_after,
                unit=self.unit_key, phase=self.phase.id,
            )
        )  # fmt: skip


def wall_clock() -> float:
    return time.time()
