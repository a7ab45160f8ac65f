"""The Engine: the one API every face (TUI, JSON-RPC, MCP, CLI) uses.

Reads come from Redis only. Writes go through compare-and-set scripts, so two
faces confirming or cancelling at once cannot both win. Running jobs belongs
to the worker (in this process when `worker=True`, or in any other process
sharing the Redis).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from redis.asyncio import Redis

from engine import catalog, waves
from engine.activities import ActivityBackend, ActivityTracker
from engine.catalog import WorkflowDescription, WorkflowInfo
from engine.codec import parse_options
from engine.config import EngineConfig
from engine.errors import (
    ConfirmationRequired,
    ConflictsPresent,
    DigestMismatch,
    InputError,
    JobNotFound,
    PlanExpired,
    WrongState,
)
from engine.events import (
    CancelRequested,
    JobConfirmed,
    JobStatusChanged,
    Log,
    PauseRequested,
)
from engine.keys import GLOBAL_ROW, split_cell_field
from engine.models import (
    AuditReport,
    CellRecord,
    CellState,
    CleanupSource,
    JobStatus,
    JobView,
    Plan,
)
from engine.planning import JobPlanning
from engine.reads import JobReads
from engine.registry import Registry
from engine.retention import job_finished
from engine.secretbox import SecretBox
from engine.spec import AuditContext
from engine.store import Store
from engine.targets import Target
from engine.text_input import ParsedInput, parse_input
from engine.trackers import Trackers
from engine.worker import Worker


class Engine(JobReads):
    # pragma: no mutate start (lifecycle, planning, views: mutation testing covers confirm
    # and cancel here; the state checks themselves are Lua, see test_lua_mutants.py)
    def __init__(
        self,
        redis: Redis,
        registry: Registry,
        config: EngineConfig | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        target: Target | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = anyio.sleep,
        seed: int | None = None,
        secrets: SecretBox | None = None,
        on_inputs_purged: Callable[[], None] | None = None,
    ) -> None:
        """`target` identifies the backend `resources` reach: jobs planned here are
        bound to it, and this engine's worker runs only jobs bound to it.
        `secrets` seals secret inputs at rest: every process sharing the Redis needs
        the same key (default: a key of this process only). `on_inputs_purged` runs
        after inputs were deleted (the runtime rewrites the embedded Redis's AOF)."""
        self.config = config or EngineConfig()
        self.target = target or Target()
        self.redis = redis
        self.registry = registry
        self.secrets = secrets or SecretBox.generate()
        self.store = Store(
            redis,
            prefix=self.config.prefix,
            events_maxlen=self.config.events_maxlen,
            finished_ttl=self.config.finished_ttl,
            plan_ttl=self.config.plan_ttl,
            on_purge=on_inputs_purged,
        )
        self.resources: dict[str, Any] = dict(resources or {})
        self.clock = clock
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.trackers = Trackers(self.config)
        self.planning = JobPlanning(
            store=self.store,
            registry=registry,
            config=self.config,
            secrets=self.secrets,
            target=self.target,
            resources=self.resources,
            clock=clock,
        )
        self.plan = self.planning.plan
        """Phase 0: store a plan awaiting confirmation (`JobPlanning.plan`). Nothing is
        written to the target."""
        self.worker = Worker(
            store=self.store,
            registry=registry,
            config=self.config,
            secrets=self.secrets,
            resources=self.resources,
            target=self.target,
            clock=clock,
            tracker_for=self.trackers.tracker_for,
            on_finished=partial(job_finished, self.store, registry),
            sleep=sleep,
            rng=self.rng,
        )

    # -- lifecycle ------------------------------------------------------------

    @asynccontextmanager
    async def running(self, *, worker: bool = True) -> AsyncIterator[Engine]:
        """Run the activity pollers (and a worker, by default) for this block."""
        async with anyio.create_task_group() as tg:
            self.trackers.start(tg)
            if worker:
                tg.start_soon(self.worker.serve, tg)
            try:
                yield self
            finally:
                self.trackers.stop()
                tg.cancel_scope.cancel()

    def tracker_for(self, backend: ActivityBackend) -> ActivityTracker:
        """One bulk poller per backend, shared by every job in this process."""
        return self.trackers.tracker_for(backend)

    # -- workflows ------------------------------------------------------------

    def workflows(self) -> list[WorkflowInfo]:
        return catalog.list_workflows(self.registry)

    def describe(self, workflow: str) -> WorkflowDescription:
        return catalog.describe(self.registry, workflow)

    async def parse_input(self, workflow: str, text: str, fmt: str = "auto") -> ParsedInput:
        """An input file's content read by the workflow's own parser (off the event loop)."""
        return await anyio.to_thread.run_sync(parse_input, self.registry, workflow, text, fmt)

    # -- plan / confirm / discard --------------------------------------------

    async def get_plan(self, job_id: str) -> Plan:
        await self.store.meta(job_id)
        plan = await self.store.plan(job_id)
        if plan is None:
            raise JobNotFound(f"job {job_id} has no plan")
        return plan

    # pragma: no mutate end
    async def confirm(
        self,
        job_id: str,
        plan_digest: str,
        *,
        confirm_text: str | None = None,
        principal: str | None = None,
    ) -> JobView:
        """Start the reviewed plan; rejected on a wrong digest, expiry or wrong state."""
        plan = await self.store.plan(job_id)
        needed = plan.summary.confirm_text if plan and plan.summary.destructive else None
        if needed and confirm_text != needed:
            raise ConfirmationRequired(f"this plan deletes resources: type {needed!r} to confirm")
        now = self.clock()
        event = JobConfirmed(ts=now, job_id=job_id, digest=plan_digest, principal=principal)
        res, detail = await self.store.confirm(job_id, plan_digest, now, event)
        if res == "missing":
            raise JobNotFound(f"no job {job_id!r}")
        if res == "wrong_state":
            raise WrongState(f"job {job_id} is {detail}, not awaiting confirmation")
        if res == "digest_mismatch":
            raise DigestMismatch(f"plan digest does not match job {job_id}'s current plan")
        if res == "plan_expired":
            raise PlanExpired(f"the plan of job {job_id} expired; plan again")
        if res == "conflicts":
            raise ConflictsPresent(f"the plan of job {job_id} has {detail} conflict(s) to resolve")
        return await self.get(job_id)

    # pragma: no mutate start (discard)
    async def discard(self, job_id: str, *, principal: str | None = None) -> JobView:
        now = self.clock()
        ok, cur = await self.store.cas_status(
            job_id,
            [JobStatus.AWAITING_CONFIRMATION, JobStatus.EXPIRED],
            JobStatus.DISCARDED,
            now,
            JobStatusChanged(
                ts=now,
                job_id=job_id,
                status=JobStatus.DISCARDED,
                reason="discarded",
                principal=principal,
            ),
            finished_at=now,
        )
        if not ok:
            raise WrongState(
                f"job {job_id} is {cur}; only a plan awaiting confirmation can be discarded"
            )
        await self.on_finished(job_id, JobStatus.DISCARDED)
        return await self.get(job_id)

    # -- cancel / retry ----------------------------------------------------------

    # pragma: no mutate end
    async def cancel(
        self, job_id: str, *, hard: bool = False, principal: str | None = None
    ) -> JobView:
        """Persisted before it is acknowledged: whichever worker owns the job, now
        or after a takeover, reads the request from the job's meta and honours it.
        A job that has not started (a plan, a queued or paused job) ends at once."""
        mode = "hard" if hard else "graceful"
        now = self.clock()
        event = CancelRequested(ts=now, job_id=job_id, mode=mode, principal=principal)
        res, cur = await self.store.requests.cancel(job_id, mode, now, event)
        if res == "cancelled":
            await self.on_finished(job_id, JobStatus.CANCELLED)
            return await self.get(job_id)
        if res != "requested":
            raise WrongState(f"job {job_id} is {cur}; nothing to cancel")
        await self.worker.recheck_cancel(job_id)  # the owner may be this process
        return await self.get(job_id)

    # pragma: no mutate block (pause, resume, retry, cleanup, audit, on_finished)
    async def pause(self, job_id: str, *, principal: str | None = None) -> JobView:
        """An operator's pause, persisted before it is acknowledged like a cancel:
        in-flight work lands, nothing new starts, the job rests PAUSED (a queued
        job pauses at once). `resume` continues it."""
        now = self.clock()
        res, cur = await self.store.requests.pause(
            job_id, now, PauseRequested(ts=now, job_id=job_id, principal=principal)
        )
        if res == "no":
            raise WrongState(f"job {job_id} is {cur}; only a QUEUED or RUNNING job can be paused")
        await self.worker.recheck_cancel(job_id)  # the owner may be this process
        return await self.get(job_id)

    async def resume(
        self, job_id: str, digest: str | None = None, *, principal: str | None = None
    ) -> JobView:
        """Continue a PAUSED job where it stopped: its pending cells, and those the
        pause interrupted (cancelled); failed cells stay failed (`retry` re-runs them).
        At a wave's approval gate this is the second confirmation: it quotes the
        plan's digest, and the rest of the units run."""
        meta = await self.store.meta(job_id)
        if meta.get("status") != JobStatus.PAUSED:
            raise WrongState(f"job {job_id} is {meta.get('status')}; only a PAUSED job resumes")
        fields = {}
        if meta.get("wave_state") == waves.GATE:
            if digest is None:
                raise ConfirmationRequired(
                    f"job {job_id} ran its first wave and waits for approval: review the "
                    "wave's results, then resume with the plan digest"
                )
            if digest != meta.get("plan_digest"):
                raise DigestMismatch(f"plan digest does not match job {job_id}'s plan")
            fields["wave_state"] = waves.APPROVED
        cells = await self.store.cells(job_id)
        reset = {
            field: CellRecord(state=CellState.PENDING, attempts=rec.attempts)
            for field, rec in cells.items()
            if rec.state == CellState.CANCELLED
        }
        now = self.clock()
        why = "wave approved" if fields else "resumed"
        event = JobStatusChanged(
            ts=now, job_id=job_id, status=JobStatus.QUEUED, reason=why, principal=principal
        )
        ok, cur = await self.store.requeue(job_id, JobStatus.PAUSED, reset, now, event, **fields)
        if not ok:
            raise WrongState(f"job {job_id} changed to {cur} meanwhile")
        return await self.get(job_id)

    async def retry(
        self, job_id: str, units: Sequence[str] | None = None, *, principal: str | None = None
    ) -> JobView:
        """Re-run failed, blocked and cancelled cells (of the given units, or all)."""
        meta = await self.store.meta(job_id)
        status = JobStatus(meta["status"])
        if not status.retryable:
            raise WrongState(
                f"job {job_id} is {status}; only PARTIAL, FAILED, CANCELLED or PAUSED "
                "jobs can be retried"
            )
        keys = await self.store.unit_keys(job_id)
        rows: set[str] | None = None
        if units is not None:
            index = {k: i for i, k in enumerate(keys)}
            unknown = [u for u in units if u not in index]
            if unknown:
                raise InputError(
                    "unknown units",
                    details=[f"units: {u!r} is not in job {job_id}" for u in unknown[:50]],
                )
            rows = {str(index[u]) for u in units}
        cells = await self.store.cells(job_id)
        rerun = {CellState.FAILED, CellState.BLOCKED, CellState.CANCELLED}
        if status == JobStatus.PAUSED:
            rerun.add(CellState.PENDING)
        reset: dict[str, CellRecord] = {}
        for field, rec in cells.items():
            row = split_cell_field(field)[0]
            if rec.state in rerun and (rows is None or row in rows or row == GLOBAL_ROW):
                # a fresh retry budget; the start count stays (the cell ran before)
                reset[field] = CellRecord(state=CellState.PENDING, attempts=rec.attempts)
        now = self.clock()
        event = JobStatusChanged(
            ts=now,
            job_id=job_id,
            status=JobStatus.QUEUED,
            reason=f"retry of {len(reset)} cells",
            principal=principal,
        )
        ok, cur = await self.store.requeue(job_id, status, reset, now, event)
        if not ok:
            raise WrongState(f"job {job_id} changed to {cur} meanwhile")
        return await self.get(job_id)

    # -- cleanup / audit ---------------------------------------------------------

    async def cleanup(self, job_id: str, *, principal: str | None = None) -> Plan:
        """Plan (not run) the deletion of what the job created, from its ledger."""
        meta = await self.store.meta(job_id)
        status = JobStatus(meta["status"])
        if not (status.terminal or status == JobStatus.PAUSED):
            raise WrongState(f"job {job_id} is {status}; cancel it or let it finish first")
        spec = self.registry.get(meta["workflow"])
        if spec.cleanup is None:
            raise WrongState(f"workflow {spec.name} has no cleanup")
        source = CleanupSource(
            job_id=job_id,
            workflow=spec.name,
            options=json.loads(meta.get("options") or "{}"),
            unit_keys=await self.store.unit_keys(job_id),
            ledger=await self.store.ledger(job_id),
        )
        request = spec.cleanup(source)
        plan = await self.plan(
            request.workflow, request.units, request.options, title=request.title,
            principal=principal,
        )  # fmt: skip
        await self.store.set_meta(plan.job_id, parent_job=job_id)
        return plan

    async def audit(self, job_id: str) -> AuditReport:
        """Read the target back: per unit, what the job created is present, missing or drifted."""
        meta = await self.store.meta(job_id)
        spec = self.registry.get(meta["workflow"])
        if spec.audit is None:
            raise WrongState(f"workflow {spec.name} has no audit")
        keys = await self.store.unit_keys(job_id)
        raw_values = await self.store.values(job_id)
        values = {(keys[int(k)] if k != GLOBAL_ROW else k): v for k, v in raw_values.items()}
        ctx = AuditContext(
            job_id=job_id,
            workflow=spec.name,
            options=parse_options(spec.options_model, json.loads(meta.get("options") or "{}")),
            unit_keys=keys,
            values=values,
            ledger=await self.store.ledger(job_id),
            resources=self.resources,
            clock=self.clock,
        )
        report = (await spec.audit(ctx)).count()
        counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
        await self.store.stream.append(
            job_id,
            Log(ts=self.clock(), job_id=job_id, message=f"audit: {counts or 'nothing to check'}",
                data=report.counts),
        )  # fmt: skip
        return report

    async def on_finished(self, job_id: str, status: JobStatus) -> None:
        """A job ended: retention (engine.retention) takes over."""
        await job_finished(self.store, self.registry, job_id, status)
