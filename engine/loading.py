"""Loading a job to run it: what Redis holds of it (units, options, cells, values,
attempts, counters) made into a `Brain`. The only place sealed inputs are opened."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from engine.activities import ActivityBackend, ActivityTracker
from engine.brain import Brain
from engine.cell_plans import CellPlans
from engine.codec import parse_options
from engine.config import EngineConfig
from engine.journal import Journal
from engine.models import JobStatus
from engine.registry import Registry
from engine.retry import scaled_phases
from engine.secretbox import SecretBox
from engine.store import Store
from engine.waves import held_rows


@dataclass(frozen=True)
class BrainLoader:
    store: Store
    registry: Registry
    secrets: SecretBox
    config: EngineConfig
    resources: Mapping[str, Any]
    tracker_for: Callable[[ActivityBackend], ActivityTracker]
    clock: Callable[[], float]
    sleep: Callable[[float], Any]
    rng: random.Random

    async def load(
        self, job_id: str, meta: dict[str, str], fence: int, slots: anyio.CapacityLimiter | None
    ) -> Brain:
        """The job as Redis holds it (`meta` read by the claimer), with this owner's
        `fence` on every write and `slots` its in-flight limit if shared."""
        store = self.store
        spec = self.registry.get(meta["workflow"])
        phases = scaled_phases(self.registry.ordered_phases(spec.name), self.config.time_scale)
        unit_keys = await store.unit_keys(job_id)
        raw_inputs = await store.inputs(job_id)
        box = self.secrets  # the only place sealed inputs are opened: to run them
        units: list[Any] = []
        for i in range(len(unit_keys)):
            if i not in raw_inputs:  # purged: the unit succeeded, nothing of it runs again
                units.append(spec.unit_model.model_construct() if spec.unit_model else {})
                continue
            data = box.open_tree(json.loads(raw_inputs[i]), job_id)
            units.append(spec.unit_model.model_validate(data) if spec.unit_model else data)
        raw_options = box.open_tree(json.loads(meta.get("options") or "{}"), job_id)
        options = parse_options(spec.options_model, raw_options)
        cells = await store.cells(job_id)
        values = await store.values(job_id)
        attempts = await store.attempts(job_id, list(cells))
        max_failed = meta.get("max_failed_units")
        metrics: dict[str, float] = {}
        with contextlib.suppress(ValueError):  # a resumed/retried job keeps counting
            metrics = json.loads(meta.get("metrics") or "{}")

        def journal_factory(b: Brain) -> Journal:
            return Journal(
                store,
                job_id,
                fence=fence,
                snapshot=b.snapshot,
                on_fenced=lambda: b.stop("fenced", hard=True),
            )

        return Brain(
            job_id=job_id,
            phases=phases,
            unit_keys=unit_keys,
            units=units,
            options=options,
            journal_factory=journal_factory,
            cells=cells,
            values=values,
            attempts=attempts,
            resources=self.resources,
            tracker_for=self.tracker_for,
            max_in_flight=self.config.max_in_flight,
            max_failed_units=int(max_failed) if max_failed else None,
            on_max_failed=meta.get("on_max_failed") or "abort",
            clock=self.clock,
            sleep=self.sleep,
            rng=self.rng,
            ledger_seq=int(meta.get("ledger_seq") or 0),
            metrics=metrics,
            slots=slots,
            plans=CellPlans.of_json(
                await store.plan_json(job_id), resumed=meta.get("status") == JobStatus.RUNNING
            ),
            held=held_rows(meta, len(unit_keys)),
        )
