"""What every R1 phase shares: the client from the engine's resources, API call
metering into the job's metrics, activity waits and find-or-create.

Calls are metered through httpx event hooks and a context variable: each
executor run counts the HTTP attempts (and 429s) made from its own task, so
concurrent cells of different jobs never mix their figures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from engine.errors import PermanentError
from workflows.provenance import found_action, job_tag, taggable
from workflows.r1 import Accepted, R1ActivityFailed, R1Client, raise_for_activity


@dataclass
class Meter:
    calls: int = 0
    rate_limited: int = 0


_meter: ContextVar[Meter | None] = ContextVar("phasegrid_r1_meter", default=None)
_HOOKED = "_phasegrid_metered"


async def _on_request(request: httpx.Request) -> None:
    meter = _meter.get()
    if meter is not None:
        meter.calls += 1


async def _on_response(response: httpx.Response) -> None:
    meter = _meter.get()
    if meter is not None and response.status_code == 429:
        meter.rate_limited += 1


def install_meter(client: R1Client) -> None:
    """Add the metering hooks to the client's httpx client (once)."""
    http = client.http
    if getattr(http, _HOOKED, False):
        return
    hooks = {k: list(v) for k, v in http.event_hooks.items()}
    hooks.setdefault("request", []).append(_on_request)
    hooks.setdefault("response", []).append(_on_response)
    http.event_hooks = hooks
    setattr(http, _HOOKED, True)


def client_of(resources: Any) -> R1Client:
    client = resources.get("r1") if hasattr(resources, "get") else None
    if client is None:
        raise PermanentError("no R1 client configured (resources['r1'])")
    install_meter(client)
    return client


@contextmanager
def metered(ctx: Any) -> Iterator[Meter]:
    """Count this task's R1 calls and 429s into the job's metrics."""
    with metering() as meter:
        try:
            yield meter
        finally:
            report(ctx, meter)


def report(ctx: Any, meter: Meter) -> None:
    if meter.calls:
        ctx.incr("r1_calls", meter.calls)
        ctx.incr(f"r1_calls:{ctx.phase.id}", meter.calls)
    for _ in range(meter.rate_limited):
        ctx.rate_limited(None)


@contextmanager
def metering() -> Iterator[Meter]:
    """Count calls without a phase context (inventory, audit)."""
    meter = Meter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


async def wait(ctx: Any, client: R1Client, accepted: Accepted) -> None:
    """Wait for a write's activity through the engine's bulk tracker; raise on FAIL."""
    if accepted.request_id:
        raise_for_activity(await ctx.wait_activity(client.activities, accepted.request_id))


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
    """Query by name first; create if absent; after a FAILed duplicate, re-query and adopt.

    `create(tag)` gets this job's tag for the kinds R1 lets us tag (None for
    the others) and must write it. `check(existing)` returns a reason when an
    existing resource cannot be reused (different settings): a permanent
    error, not a silent reuse. Only our accepted create, or our tag on what
    R1 answers, makes the entry "created" (see `workflows.provenance`).
    """
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


def _found(ctx: Any, resource: str, existing: Any, **entry: Any) -> Found:
    action = found_action(ctx, resource, existing)
    ctx.record(resource, existing.id, action=action, **entry)
    return Found(existing.id, action)


async def first(items: Any) -> Any:
    async for item in items:
        return item
    return None
