"""The read side of the Engine: views built from Redis only, so any process
(TUI, RPC, a second engine) sees the same jobs, units and events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import anyio
from redis.asyncio import Redis

from engine import report, views
from engine.backoff import retrying
from engine.codec import secret_fields
from engine.errors import InputError, JobNotFound
from engine.events import EventRecord
from engine.models import JobListItem, JobStatus, JobView, LedgerEntry, UnitDetail, UnitPage
from engine.registry import Registry
from engine.secretbox import SecretBox
from engine.store import Store
from engine.targets import target_key

WAIT_COALESCE = 0.05


class JobReads:
    """Mixin of `Engine` (which sets these fields)."""

    store: Store
    registry: Registry
    redis: Redis
    clock: Callable[[], float]
    worker: Any
    secrets: SecretBox

    # -- reads ------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobView:
        meta = await self.store.meta(job_id)
        counts = await self.store.counts(job_id)
        phases = self.registry.ordered_phases(meta["workflow"])
        now = self.clock()
        unserved = False
        if meta.get("status") in (JobStatus.QUEUED, JobStatus.RUNNING) and not (
            await self.store.leases.leased(job_id)
        ):
            key = target_key(meta.get("target") or "")
            unserved = await self.store.leases.live_workers(key, int(now * 1000)) == 0
        return views.job_view(job_id, meta, counts, phases, now, unserved=unserved)

    async def units(
        self,
        job_id: str,
        *,
        state: str | None = None,
        search: str | None = None,
        phase: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> UnitPage:
        meta = await self.store.meta(job_id)
        phases = self.registry.ordered_phases(meta["workflow"])
        if phase is not None and phase not in {p.id for p in phases}:
            raise InputError(
                "unknown phase", details=[f"phase: {phase!r} is not in {meta['workflow']}"]
            )
        return await views.unit_page(
            self.store, job_id, phases, state=state, search=search, phase=phase,
            offset=max(0, offset), limit=max(1, min(limit, 5000)),
        )  # fmt: skip

    async def unit(self, job_id: str, unit: str, *, reveal: bool = False) -> UnitDetail:
        meta = await self.store.meta(job_id)
        spec = self.registry.get(meta["workflow"])
        keys = await self.store.unit_keys(job_id)
        try:
            row = keys.index(unit)
        except ValueError:
            raise JobNotFound(f"job {job_id} has no unit {unit!r}") from None
        secret = secret_fields(spec.unit_model) | set(spec.secret_fields)
        detail = await views.unit_detail(
            self.store, job_id, self.registry.ordered_phases(spec.name), row, unit, secret, reveal
        )
        if reveal:  # a person asked to see this unit's secrets (the TUI's unit screen)
            detail.inputs = self.secrets.open_tree(detail.inputs, job_id)
        return detail

    async def exists(self, job_id: str) -> bool:
        """The job's records are here (not purged by retention, not unknown)."""
        return bool((await self.store.metas([job_id]))[0])

    async def was_listed(self, job_id: str) -> bool:
        """The jobs index still names it: a job whose records expired (purged)."""
        return await self.redis.zscore(self.store.keys.jobs, job_id) is not None

    async def ledger(self, job_id: str) -> list[LedgerEntry]:
        await self.store.meta(job_id)
        return await self.store.ledger(job_id)

    async def results(
        self, job_id: str, *, offset: int = 0, limit: int | None = None
    ) -> report.ResultsReport:
        """The per-unit results report (all units, or a page); `report.to_csv` for CSV."""
        meta = await self.store.meta(job_id)
        phases = self.registry.ordered_phases(meta["workflow"])
        return await report.build(
            self.store, job_id, phases, meta, offset=max(0, offset), limit=limit
        )

    async def events(
        self, job_id: str, after: str | None = None, limit: int = 500
    ) -> list[EventRecord]:
        await self.store.meta(job_id)
        return await self.store.stream.read(job_id, after, limit)

    async def last_cursor(self, job_id: str) -> str:
        """The cursor of the job's newest event ('0-0' if none): follow from here."""
        await self.store.meta(job_id)
        return await self.store.stream.last_cursor(job_id)

    async def follow(
        self, job_id: str, after: str | None = None, block_ms: int = 1000
    ) -> AsyncIterator[EventRecord]:
        """Replay from the cursor, then tail forever (until the caller stops), riding
        out Redis restarts: a follower resumes from its cursor when the store is back."""
        cursor = after or "0-0"
        while True:
            tail = partial(self.store.stream.tail, job_id, cursor, block_ms)
            batch = await retrying(tail, what=f"following job {job_id}")
            for rec in batch:
                cursor = rec.cursor
                yield rec

    async def wait(self, job_id: str, timeout: float = 30.0) -> JobView:
        """Return when the job is terminal (or paused/awaiting confirmation) or at timeout.

        Blocks on the job's event stream (no polling); wake-ups are coalesced
        so a busy job costs a waiter a few reads per second, not one per event.
        """
        deadline = time.monotonic() + timeout
        while True:
            cursor = await self.store.stream.last_cursor(job_id)
            view = await self.get(job_id)
            if view.status.terminal or view.status in (
                JobStatus.PAUSED,
                JobStatus.AWAITING_CONFIRMATION,
            ):
                return view
            left = deadline - time.monotonic()
            if left <= 0:
                return view
            if await self.store.stream.tail(
                job_id, cursor, max(1, int(min(left, 5.0) * 1000)), limit=1
            ):
                await anyio.sleep(min(WAIT_COALESCE, max(0.0, deadline - time.monotonic())))

    async def list_jobs(
        self, *, offset: int = 0, limit: int = 50, status: str | None = None
    ) -> list[JobListItem]:
        ids = (
            await self.store.job_ids(0, 10_000)
            if status
            else await self.store.job_ids(offset, limit)
        )
        metas = await self.store.metas(ids)
        gone = [i for i, m in zip(ids, metas, strict=True) if not m]
        await self.store.forget(gone)
        items = []
        for job_id, meta in zip(ids, metas, strict=True):
            if not meta or (status and meta.get("status") != status):
                continue
            counts = await self.store.counts(job_id)
            items.append(views.list_item(job_id, meta, counts))
        return items[offset : offset + limit] if status else items

    async def health(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        await self.redis.ping()
        return {
            "redis": "ok",
            "redis_ms": round((time.perf_counter() - t0) * 1000, 2),
            "worker": self.worker.id,
            "running_jobs": self.worker.running_jobs(),
            "workflows": self.registry.names(),
        }
