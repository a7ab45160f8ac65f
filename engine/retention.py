"""What is kept of a finished job, and for how long.

Inputs hold secrets (PSKs, passphrases; sealed) so that a crashed job can
resume. Once a unit has succeeded nothing can re-run it, so its inputs go; a
COMPLETED or DISCARDED job keeps none. Every key of a finished job expires
after the retention period (the store's `finished_ttl`).
"""

from __future__ import annotations

from engine import views
from engine.codec import secret_fields
from engine.models import JobStatus
from engine.registry import Registry
from engine.store import Store


async def job_finished(store: Store, registry: Registry, job_id: str, status: JobStatus) -> None:
    """Purge the secret inputs nothing can need again; expire the job after retention."""
    meta = await store.meta(job_id)
    spec = registry.get(meta["workflow"]) if meta.get("workflow") in registry else None
    if spec is not None and (secret_fields(spec.unit_model) or spec.secret_fields):
        if status in (JobStatus.COMPLETED, JobStatus.DISCARDED):
            await store.purge_inputs(job_id)
        else:
            phases = registry.ordered_phases(spec.name)
            rows = await views.rows_in_state(store, job_id, phases, "succeeded")
            await store.purge_inputs(job_id, rows)
    await store.finish(job_id)
