"""Planning a job: store it (its secret inputs sealed), run phase 0 under the
planner's lease (so a planner that dies is noticed), and keep the plan awaiting
confirmation under its digest. A planning that fails or is cancelled leaves a
FAILED or CANCELLED job and no inputs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel

from engine.bounds import check_units
from engine.codec import digest_of, parse_items, parse_options
from engine.config import EngineConfig
from engine.errors import InputError, WrongState
from engine.events import JobPlanned
from engine.models import JobStatus, Plan
from engine.planner import build_plan
from engine.planner_lease import holding_planner_lease
from engine.registry import Registry
from engine.secretbox import SecretBox
from engine.store import Store
from engine.targets import Target
from engine.waves import Wave


@dataclass(frozen=True)
class JobPlanning:
    store: Store
    registry: Registry
    config: EngineConfig
    secrets: SecretBox
    """Seals the secret inputs before they are stored."""
    target: Target
    """What the job is bound to: only a worker of this target runs it."""
    resources: Mapping[str, Any]
    clock: Callable[[], float]

    async def plan(
        self,
        workflow: str,
        units: Sequence[Any],
        options: Any = None,
        *,
        title: str | None = None,
        max_failed_units: int | None = None,
        on_max_failed: str = "abort",
        job_id: str | None = None,
        wave: Wave | Mapping[str, Any] | None = None,
        principal: str | None = None,
    ) -> Plan:
        """Store the job (inputs sealed), plan it under the planner's lease, keep the plan
        awaiting confirmation. Nothing is written to the target. `wave`: run those units
        first and stop for approval (`engine.waves`). `principal`: who asked."""
        spec = self.registry.get(workflow)
        phases = self.registry.ordered_phases(workflow)
        check_units(len(units))
        parsed = parse_items(spec.unit_model, units, "units")
        opts = parse_options(spec.options_model, options)
        keys = [spec.key_of(u, i) for i, u in enumerate(parsed)]
        seen: dict[str, int] = {}
        dupes = []
        for i, k in enumerate(keys):
            if k in seen:
                dupes.append(f"units[{i}]: duplicate unit {k!r} (first at units[{seen[k]}])")
            seen.setdefault(k, i)
        if dupes:
            raise InputError("duplicate units", details=dupes[:50])
        if on_max_failed not in ("abort", "pause"):
            raise InputError("invalid on_max_failed", details=["must be 'abort' or 'pause'"])
        wave_rows = None
        if wave is not None:
            wave_rows = parse_options(Wave, wave, "wave").rows(keys)
        job_id = job_id or uuid.uuid4().hex[:12]
        planner = f"p-{uuid.uuid4().hex[:8]}"  # this call's lease on the job while PLANNING
        now = self.clock()
        inputs = [self.secrets.dumps(u, job_id, spec.secret_fields) for u in parsed]
        options_json = self.secrets.dumps(opts, job_id)
        await self.store.create_job(
            job_id,
            {
                "status": JobStatus.PLANNING.value,
                "workflow": workflow,
                "title": title or spec.title,
                "created_at": now,
                "updated_at": now,
                "units_total": len(parsed),
                "options": options_json,
                "max_failed_units": "" if max_failed_units is None else max_failed_units,
                "on_max_failed": on_max_failed,
                "simulated": "1" if self.config.simulated else "0",
                "target": self.target.id,
                "target_label": self.target.describe(),
                "wave": json.dumps(wave_rows) if wave_rows is not None else "",
            },
            keys,
            inputs,
            now,
            planner=(planner, int(self.config.planner_lease_ttl * 1000)),
        )

        async def cancelled() -> bool:
            return (await self.store.meta(job_id)).get("status") == JobStatus.CANCELLED

        try:
            result = await holding_planner_lease(
                self.store,
                job_id,
                planner,
                self.config.planner_lease_ttl,
                build_plan(
                    spec=spec,
                    phases=phases,
                    job_id=job_id,
                    units=parsed,
                    unit_keys=keys,
                    options=opts,
                    resources=self.resources,
                    max_in_flight=self.config.max_in_flight,
                    cancelled=cancelled,
                    timing=self.config.target_timing,
                    time_scale=self.config.time_scale,
                ),
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                failed, _ = await self.store.cas_status(
                    job_id, [JobStatus.PLANNING], JobStatus.FAILED, self.clock(),
                    error="planning failed", finished_at=self.clock(),
                )  # fmt: skip
                if failed:  # nothing ran and nothing can: keep no inputs (secrets)
                    await self.store.purge_inputs(job_id)
                    await self.store.finish(job_id)
            raise
        if result is None:
            raise WrongState(f"job {job_id} was cancelled while planning")
        global_plans, unit_plans, summary = result
        created = self.clock()
        digest = digest_of(workflow, json.loads(options_json), keys, inputs,
                           {k: v.model_dump() for k, v in global_plans.items()},
                           [u.model_dump() for u in unit_plans],
                           *([wave_rows] if wave_rows is not None else []))  # fmt: skip
        plan = Plan(
            job_id=job_id,
            workflow=workflow,
            digest=digest,
            created_at=created,
            expires_at=created + self.config.plan_ttl,
            summary=summary,
            global_phases=global_plans,
            units=unit_plans,
            options=json.loads(
                json.dumps(opts.model_dump(mode="json") if isinstance(opts, BaseModel) else opts)
            ),
            wave=[keys[r] for r in wave_rows] if wave_rows is not None else None,
        )
        await self.store.save_plan(plan)
        event = JobPlanned(
            ts=created, job_id=job_id, digest=digest, headline=summary.headline(),
            conflicts=summary.conflicts, principal=principal,
        )  # fmt: skip
        ok, current = await self.store.cas_status(
            job_id,
            [JobStatus.PLANNING],
            JobStatus.AWAITING_CONFIRMATION,
            created,
            event,
            plan_digest=digest,
            plan_expires_at=plan.expires_at,
            plan_conflicts=summary.conflicts,
            plan_summary=summary.model_dump_json(),
        )
        await self.store.leases.done_planning(job_id)  # the job left PLANNING: no lease to hold
        if not ok:  # a cancel won the race
            raise WrongState(f"job {job_id} was {current.lower()} while planning")
        return plan
