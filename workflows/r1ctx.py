"""What every R1 phase shares: the client from the engine's resources, API call
metering into the job's metrics, activity waits and find-or-create.

Calls are counted by the client's one meter (`workflows.r1.meter`, httpx event
hooks): each executor run opens a scope, so it counts the HTTP attempts (and
429s) made from its own task and concurrent cells of different jobs never mix
their figures. The activity poller's calls are charged to the jobs whose
activities each poll asked about (`JobAccount`), as are the activities waited on,
so a job's metrics give its polls per activity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio

from engine.activities import POLL_ACCOUNT, PollCost
from engine.errors import PermanentError
from workflows.provenance import found_action, job_tag, taggable, untagged_action
from workflows.r1 import Accepted, R1ActivityFailed, R1Client, raise_for_activity
from workflows.r1.meter import Tally, metering

__all__ = ["JobAccount", "Tally", "client_of", "metered", "metering", "polls_per_activity"]

Meter = Tally  # the name callers used before the meter was one


def client_of(resources: Any) -> R1Client:
    client = resources.get("r1") if hasattr(resources, "get") else None
    if client is None:
        raise PermanentError("no R1 client configured (resources['r1'])")
    return client


class JobAccount:
    """A job's account for the activity poller (see `engine.activities.POLL_ACCOUNT`)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.key = str(ctx.job_id)

    def charge(self, cost: PollCost) -> None:
        ctx = self.ctx
        if cost.calls:
            ctx.incr("r1_calls", cost.calls)
            ctx.incr("r1_calls:activity_poller", cost.calls)
        if cost.polls:
            ctx.incr("activity_polls", cost.polls)
        if cost.activities:
            ctx.incr("activities", cost.activities)
        for _ in range(cost.rate_limited):
            ctx.rate_limited(None)


def polls_per_activity(metrics: dict[str, Any]) -> float | None:
    """Activity queries per activity waited on (None before any activity)."""
    activities = float(metrics.get("activities", 0) or 0)
    if not activities:
        return None
    return round(float(metrics.get("activity_polls", 0) or 0) / activities, 3)


@contextmanager
def metered(ctx: Any) -> Iterator[Tally]:
    """Count this task's R1 calls and 429s into the job's metrics; the engine
    re-runs the phase on ambiguous failures, so the transport does not."""
    token = POLL_ACCOUNT.set(JobAccount(ctx))
    try:
        with metering(caller_retries=True) as tally:
            try:
                yield tally
            finally:
                report(ctx, tally)
    finally:
        POLL_ACCOUNT.reset(token)


def report(ctx: Any, tally: Tally) -> None:
    if tally.calls:
        ctx.incr("r1_calls", tally.calls)
        ctx.incr(f"r1_calls:{ctx.phase.id}", tally.calls)
    if tally.limiter_wait:
        ctx.incr("limiter_wait_s", round(tally.limiter_wait, 3))
    for _ in range(tally.rate_limited):
        ctx.rate_limited(None)


async def wait(ctx: Any, client: R1Client, accepted: Accepted) -> None:
    """Wait for a write's activity through the engine's bulk tracker; raise on FAIL."""
    if accepted.request_id:
        raise_for_activity(await ctx.wait_activity(client.activities, accepted.request_id))


async def wait_all(ctx: Any, client: R1Client, accepted: Sequence[Accepted]) -> None:
    """Wait for several writes' activities together (one wait, not one after
    another); once all are done, raise the first FAIL's typed error."""
    ids = [a.request_id for a in accepted if a.request_id]
    results = await ctx.wait_activities(client.activities, ids)
    for result in results:
        raise_for_activity(result)


def is_duplicate(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "must be unique" in text or "already exists" in text


@dataclass
class Found:
    id: str
    action: str  # "created" | "reused" | "unknown"


async def find_or_create(
    ctx: Any,
    client: R1Client,
    *,
    locks: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Found:
    """See `_find_or_create`; with `locks` (a job's lock table), units sharing one
    name (a shared AP group or pool) create it once instead of racing."""
    if locks is None:
        return await _find_or_create(ctx, client, **kwargs)
    lock = locks.setdefault(f"{kwargs['resource']}:{kwargs['name']}", anyio.Lock())
    async with lock:
        return await _find_or_create(ctx, client, **kwargs)


async def _find_or_create(
    ctx: Any,
    client: R1Client,
    *,
    resource: str,
    name: str,
    find: Callable[[], Awaitable[Any]],
    create: Callable[[str | None], Awaitable[Accepted]],
    parent: dict[str, str] | None = None,
    check: Callable[[Any], str | None] | None = None,
    data: dict[str, Any] | None = None,
) -> Found:
    """Create what the plan says is absent; find by name first only where the
    plan cannot be trusted; after a FAILed duplicate, re-query and adopt.

    On the cell's first try a confirmed plan is the read (`planned`): "create"
    creates at once, "reuse" with an id takes that id. Without a plan (old
    jobs, tests), on a retry or after a resume (an earlier attempt may have
    landed) and for a name another unit of the job creates, it queries first.
    `create(tag)` gets this job's tag for the kinds R1 lets us tag (None for
    the others) and must write it. `check(existing)` returns a reason when an
    existing resource cannot be reused (different settings): a permanent
    error, not a silent reuse. Only our accepted create, or our tag on what
    R1 answers, makes the entry "created" (see `workflows.provenance`).
    """
    action, planned_id = planned(ctx)
    if action == "reuse" and planned_id:
        ctx.record(resource, planned_id, name=name, parent=parent,
                   action=untagged_action(ctx), data=data)  # fmt: skip
        return Found(planned_id, "reused")
    if action != "create":
        existing = await find()
        if existing is not None:
            if check is not None and (why := check(existing)):
                raise PermanentError(f"{resource} {name!r} exists with different settings: {why}")
            return _found(ctx, resource, existing, name=name, parent=parent, data=data)
    accepted = await create(job_tag(ctx.job_id) if taggable(resource) else None)
    try:
        await wait(ctx, client, accepted)
    except R1ActivityFailed as exc:
        if not is_duplicate(exc):
            raise
        existing = await find()
        if existing is None:
            raise
        ctx.log(f"{resource} {name!r} appeared meanwhile: adopted", level="warning")
        return _found(ctx, resource, existing, name=name, parent=parent, data=data)
    new_id = accepted.id
    if not new_id:
        found = await find()
        if found is None:
            raise PermanentError(f"{resource} {name!r} was accepted but cannot be found")
        new_id = found.id
    ctx.record(resource, new_id, name=name, parent=parent, action="created", data=data)
    return Found(new_id, "created")


def planned(ctx: Any) -> tuple[str | None, str | None]:
    """(action, id) of the cell's confirmed plan on its first try; (None, None)
    when the run must look for itself (no plan, a retry, a resume)."""
    plan = getattr(ctx, "plan", None)
    if plan is None or not getattr(ctx, "first_try", False):
        return None, None
    if plan.action == "reuse":
        rid = (plan.data or {}).get("id")
        return "reuse", str(rid) if rid else None
    return plan.action, None


def _found(ctx: Any, resource: str, existing: Any, **entry: Any) -> Found:
    action = found_action(ctx, resource, existing)
    ctx.record(resource, existing.id, action=action, **entry)
    return Found(existing.id, action)


async def first(items: Any) -> Any:
    async for item in items:
        return item
    return None
