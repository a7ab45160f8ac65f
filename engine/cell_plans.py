"""What Phase 0 decided for each cell, handed to its executor (`PhaseContext.plan`).

The plan is the run's read: the inventory Phase 0 took is what a confirmed plan
was confirmed against, so an executor acts on its cell's decision (create, reuse
with the id found, update) instead of reading the tenant again before each write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.models import PhasePlan, Plan


class CellPlans:
    """Each cell's `PhasePlan`: per unit row and phase id, and the global phases'."""

    def __init__(
        self,
        units: Sequence[Mapping[str, PhasePlan]] = (),
        global_phases: Mapping[str, PhasePlan] | None = None,
        *,
        resumed: bool = False,
    ) -> None:
        self._units = list(units)
        self._global = dict(global_phases or {})
        self.resumed = resumed
        """An earlier owner ran the job (it was RUNNING when claimed): a cell it
        started may have written before its start reached Redis, so no cell of this
        run is a first try (executors look before they create, found is not "reused")."""

    @classmethod
    def of_plan(cls, plan: Plan | None, *, resumed: bool = False) -> CellPlans:
        if plan is None:
            return cls(resumed=resumed)
        return cls([u.phases for u in plan.units], plan.global_phases, resumed=resumed)

    def get(self, row: int | None, phase_id: str) -> PhasePlan | None:
        """The plan of unit `row`'s cell of `phase_id` (None: a global phase's)."""
        if row is None:
            return self._global.get(phase_id)
        if 0 <= row < len(self._units):
            return self._units[row].get(phase_id)
        return None
