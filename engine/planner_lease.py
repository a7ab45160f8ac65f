"""The planner's lease: a job in PLANNING is owned by a live process.

A job is created PLANNING with its inputs (secrets included) stored, and only
the planning process moves it on. If that process dies, nothing else would:
the job would sit in PLANNING forever with its inputs in Redis. So the planner
holds a short lease (a key with a TTL, created with the job, renewed while
planning) and the workers' recovery loop fails the jobs whose lease lapsed,
purging their inputs (`reap_dead_planners`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import anyio

from engine.backoff import STORE_ERRORS
from engine.errors import JobNotFound
from engine.events import JobStatusChanged
from engine.models import JobStatus
from engine.store import Store

log = logging.getLogger("phasegrid.planner")

T = TypeVar("T")

DEAD_PLANNER = "planner process died"


async def holding_planner_lease(
    store: Store, job_id: str, planner: str, ttl: float, work: Awaitable[T]
) -> T:
    """Await `work` (the planning) while renewing the lease every `ttl`/4 seconds.

    On the way out the lease gets one last full `ttl`, covering the steps that
    follow planning (digest, saving the plan) until the job leaves PLANNING;
    then it lapses on its own.
    """
    ttl_ms = max(1, int(ttl * 1000))

    async def renew() -> None:
        try:
            if not await store.leases.renew_planner(job_id, planner, ttl_ms):
                log.warning("job %s: the planner lease lapsed while planning", job_id)
        except STORE_ERRORS as exc:  # the next beat tries again; planning goes on
            log.warning("job %s: cannot renew the planner lease (%s)", job_id, exc)

    async def beat() -> None:
        while True:
            await anyio.sleep(ttl / 4)
            await renew()

    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(beat)
        try:
            result = await work
        except Exception as exc:  # raised as is below, not wrapped in a group
            failure = exc
        finally:
            tg.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await renew()
    if failure is not None:
        raise failure
    return result


async def reap_dead_planners(store: Store, now: float) -> list[str]:
    """Fail the PLANNING jobs whose planner lease lapsed; purge their inputs.

    Returns the reaped job ids. Jobs that left PLANNING drop out of the index.
    """
    reaped: list[str] = []
    for job_id in await store.leases.planning_jobs():
        outcome = await _settle(store, job_id, now)
        if outcome == "alive":
            continue
        if outcome == "reaped":
            reaped.append(job_id)
        await store.leases.done_planning(job_id)
    return reaped


async def _settle(store: Store, job_id: str, now: float) -> str:
    """'alive' (its planner holds the lease), 'reaped' (failed now) or 'done' (not
    PLANNING, or gone). A lapsed lease is never renewed, so no live planner races this."""
    try:
        if (await store.meta(job_id)).get("status") != JobStatus.PLANNING:
            return "done"
        if await store.leases.planner_alive(job_id):
            return "alive"
        event = JobStatusChanged(
            ts=now, job_id=job_id, status=JobStatus.FAILED, reason=DEAD_PLANNER
        )
        ok, _ = await store.cas_status(
            job_id, [JobStatus.PLANNING], JobStatus.FAILED, now, event,
            error=DEAD_PLANNER, finished_at=now,
        )  # fmt: skip
    except JobNotFound:  # expired meanwhile
        return "done"
    if not ok:  # it left PLANNING meanwhile
        return "done"
    await store.purge_inputs(job_id)  # nothing ran: keep no secrets
    await store.finish(job_id)
    log.warning("job %s: %s; marked FAILED, inputs purged", job_id, DEAD_PLANNER)
    return "reaped"
