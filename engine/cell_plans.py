"""What Phase 0 decided for each cell, handed to its executor (`PhaseContext.plan`).

The plan is the run's read: the inventory Phase 0 took is what a confirmed plan
was confirmed against, so an executor acts on its cell's decision (create, reuse
with the id found, update) instead of reading the tenant again before each write.

Held compactly for the whole run: each unit's phase plans as their JSON (about a
kilobyte), parsed when a cell starts, and each phase's `waits` as a byte array for
the scheduler. Parsed models of every cell would cost a 100,000-unit job over a
gigabyte (about 125 MB per 10,000 `per_unit_dpsk` units, measured).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from engine.models import PhasePlan

NOT_SAID = -1
"""`waits` unknown: no plan for the cell, or a plan that did not say."""


class CellPlans:
    """Each cell's `PhasePlan`: per unit row and phase id, and the global phases'."""

    def __init__(
        self,
        units: Sequence[Mapping[str, PhasePlan]] = (),
        global_phases: Mapping[str, PhasePlan] | None = None,
        *,
        resumed: bool = False,
    ) -> None:
        self._global = dict(global_phases or {})
        self._units: list[bytes] = []
        self._waits: dict[str, array[int]] = {}
        for row, phases in enumerate(units):
            self._add(row, {pid: p.model_dump(mode="json") for pid, p in phases.items()})
        self.resumed = resumed
        """An earlier owner ran the job (it was RUNNING when claimed): a cell it
        started may have written before its start reached Redis, so no cell of this
        run is a first try (executors look before they create, found is not "reused")."""

    def _add(self, row: int, phases: Mapping[str, Any]) -> None:
        self._units.append(json.dumps(phases, separators=(",", ":")).encode())
        for pid, plan in phases.items():
            waits = self._waits.get(pid)
            if waits is None:
                waits = self._waits[pid] = array("b", [NOT_SAID]) * row
            waits.extend([NOT_SAID] * (row - len(waits)))
            said = plan.get("waits")
            waits.append(NOT_SAID if said is None else min(int(said), 127))

    @classmethod
    def of_json(cls, raw: str | bytes | None, *, resumed: bool = False) -> CellPlans:
        """From a stored plan's JSON (`Store.plan_json`), without a model per cell."""
        if not raw:
            return cls(resumed=resumed)
        data = json.loads(raw)
        glob = {k: PhasePlan.model_validate(v) for k, v in data.get("global_phases", {}).items()}
        plans = cls(global_phases=glob, resumed=resumed)
        units = data.get("units") or []
        for row, unit in enumerate(units):
            plans._add(row, unit.get("phases") or {})
        del data, units  # the parsed tree goes now, not at the end of the run
        return plans

    def get(self, row: int | None, phase_id: str) -> PhasePlan | None:
        """The plan of unit `row`'s cell of `phase_id` (None: a global phase's)."""
        if row is None:
            return self._global.get(phase_id)
        if not 0 <= row < len(self._units):
            return None
        raw = json.loads(self._units[row]).get(phase_id)
        return None if raw is None else PhasePlan.model_validate(raw)

    def waits(self, row: int | None, phase_id: str) -> int | None:
        """The cell's `PhasePlan.waits` (None: no plan, or it did not say)."""
        if row is None:
            plan = self._global.get(phase_id)
            return None if plan is None else plan.waits
        waits = self._waits.get(phase_id)
        if waits is None or not 0 <= row < len(waits) or waits[row] == NOT_SAID:
            return None
        return waits[row]
