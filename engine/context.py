"""What a phase executor sees: its unit, options, resolved values and the
engine services it may use (activity waits, the ledger, logs, metrics)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.activities import ActivityBackend, ActivityResult
from engine.events import Log, RateLimited, ResourceRecorded
from engine.models import LedgerEntry
from engine.spec import PhaseSpec

if TYPE_CHECKING:
    from engine.brain import Brain
    from engine.runner import Slot


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


class PhaseContext:
    """Handed to `executor.run(ctx)` for one attempt of one cell."""

    def __init__(
        self,
        brain: Brain,
        row: int,
        phase_index: int,
        attempt: int,
        slot: Slot,
        *,
        first_try: bool = False,
    ) -> None:
        self._brain = brain
        self._row = row
        self._p = phase_index
        self.slot = slot
        self.attempt = attempt
        self.first_try = first_try
        """True only on the cell's first attempt ever: not on a retry, not after a
        resume (an earlier, interrupted attempt's calls may have landed). A resource
        found when `first_try` is False may be this job's own doing."""
        self.phase: PhaseSpec = brain.phases[phase_index]
        self.job_id: str = brain.job_id
        self.options: Any = brain.options
        self.resources: Mapping[str, Any] = brain.resources
        if self.phase.per_unit:
            self.unit_index: int | None = row
            self.unit_key: str | None = brain.unit_keys[row]
            self.unit: Any = brain.units[row]
        else:
            self.unit_index = None
            self.unit_key = None
            self.unit = None

    @property
    def values(self) -> dict[str, Any]:
        """Resolved values: global phases' outputs overlaid by this unit's."""
        merged = dict(self._brain.values[self._brain.global_row])
        if self.unit_index is not None:
            merged.update(self._brain.values[self.unit_index])
        return merged

    def now(self) -> float:
        return self._brain.clock()

    async def wait_activity(
        self, backend: ActivityBackend, activity_id: str, timeout: float | None = None
    ) -> ActivityResult:
        """Wait for an async activity without holding an in-flight slot."""
        return await self._brain.wait_activity(self, backend, activity_id, timeout)

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
        brain = self._brain
        brain.ledger_seq += 1
        entry = LedgerEntry(
            seq=brain.ledger_seq, unit=self.unit_key, phase=self.phase.id, resource=resource,
            id=id, name=name, parent=parent or {}, action=action,  # type: ignore[arg-type]
            at=brain.clock(), data=data or {},
        )  # fmt: skip
        brain.journal.ledger_entry(entry.model_dump_json())
        brain.journal.event(
            ResourceRecorded(
                ts=entry.at, job_id=self.job_id, unit=self.unit_key, phase=self.phase.id,
                resource=resource, id=id, name=name, action=action,
            )
        )  # fmt: skip
        self.incr(f"{action}:{resource}")

    def log(self, message: str, level: str = "info", **data: Any) -> None:
        self._brain.journal.event(
            Log(
                ts=self._brain.clock(), job_id=self.job_id, level=level,  # type: ignore[arg-type]
                message=message, unit=self.unit_key, phase=self.phase.id, data=data,
            )
        )  # fmt: skip

    def incr(self, metric: str, n: float = 1) -> None:
        self._brain.metrics[metric] = self._brain.metrics.get(metric, 0) + n

    def rate_limited(self, retry_after: float | None = None) -> None:
        """Report a 429 (counted and shown as an event)."""
        self.incr("rate_limited")
        self._brain.journal.event(
            RateLimited(
                ts=self._brain.clock(), job_id=self.job_id, retry_after=retry_after,
                unit=self.unit_key, phase=self.phase.id,
            )
        )  # fmt: skip


def wall_clock() -> float:
    return time.time()
