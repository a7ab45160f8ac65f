"""Workers claim confirmed jobs and run their brains.

A worker serves one target (the backend its engine's resources reach) and
claims only jobs planned for that target: it waits on that target's queue,
and the claim script refuses a job of any other target. A job is claimed with
a lease (a key with a TTL, renewed by heartbeat) and a fencing token: a worker
that lost its lease has its writes refused by Redis, so a job taken over after
a crash is never written by two workers. A cancel request lives in the job's
meta, so whoever owns the job, now or after a takeover, honours it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from engine.activities import ActivityBackend, ActivityTracker
from engine.backoff import STORE_ERRORS, Backoff, is_store_error, retrying
from engine.brain import Brain
from engine.codec import parse_options
from engine.config import EngineConfig
from engine.events import JobFinished, JobStarted
from engine.journal import Journal
from engine.models import JobStatus
from engine.planner_lease import reap_dead_planners
from engine.registry import Registry
from engine.secretbox import SecretBox, SecretKeyError
from engine.store import Store
from engine.targets import Target

log = logging.getLogger("phasegrid.worker")

FINAL_STATUS = {
    "cancelled": JobStatus.CANCELLED,
    "failed": JobStatus.FAILED,
    "aborted": JobStatus.FAILED,
    "paused": JobStatus.PAUSED,
}


class Worker:
    def __init__(
        self,
        *,
        store: Store,
        registry: Registry,
        config: EngineConfig,
        secrets: SecretBox,
        resources: Mapping[str, Any],
        target: Target,
        clock: Callable[[], float],
        tracker_for: Callable[[ActivityBackend], ActivityTracker],
        on_finished: Callable[[str, JobStatus], Awaitable[None]],
        sleep: Callable[[float], Any] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """`on_finished` runs once a job this worker ran is terminal (retention)."""
        self.store = store
        self.registry = registry
        self.config = config
        self.secrets = secrets
        self.resources = resources
        self.target = target
        self.clock = clock
        self.tracker_for = tracker_for
        self.on_finished = on_finished
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.id = f"w-{uuid.uuid4().hex[:8]}"
        self.lease_ttl_ms = int(config.lease_ttl * 1000)
        self.brains: dict[str, Brain] = {}
        self._taken: set[str] = set()
        self.finished = 0

    # pragma: no mutate start (serve, announce: the queue loop and liveness display;
    # the claim script decides who runs a job, see test_lua_mutants.py)
    async def serve(self, tg: Any, *, idle_check: float = 2.0) -> None:
        """Take queued jobs forever (run it in the engine's task group).

        Whenever the queue stays quiet for `idle_check` seconds, look for
        active jobs whose worker died (lease expired) and take them over.
        While Redis is unreachable (restarting) keep retrying with backoff:
        a worker outlives the store it works for.
        """
        backoff = Backoff(maximum=idle_check)
        recovered = False
        key = self.target.key
        try:
            while True:
                try:
                    await self.announce(idle_check)
                    if not recovered:
                        await self.recover(tg)
                        recovered = True
                    job_id = await self.store.next_queued(key, timeout=idle_check)
                    if job_id:
                        tg.start_soon(self.run_job, job_id)
                    else:
                        recovered = False
                    if backoff.failures:
                        log.warning("worker %s: the store is back", self.id)
                        backoff.reset()
                except STORE_ERRORS as exc:
                    if not backoff.failures:
                        log.warning("worker %s: Redis unreachable (%s); retrying", self.id, exc)
                    recovered = False
                    await backoff.wait()
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.store.leases.unregister_worker(key, self.id)

    async def announce(self, idle_check: float) -> None:
        """Tell readers a worker of this target is alive (for a few idle periods)."""
        until = int((self.clock() + 3 * idle_check + 1) * 1000)
        await self.store.leases.register_worker(self.target.key, self.id, until)

    def running_jobs(self) -> list[str]:
        """Ids of the jobs this worker is running now."""
        return sorted(self.brains)

    # pragma: no mutate end
    async def recover(self, tg: Any) -> None:
        """Take over jobs of this worker's target whose worker died; fail jobs whose
        planner died. (The claim script checks the target too: this only saves work.)"""
        active = [j for j in await self.store.active_jobs() if j not in self._taken]
        metas = await self.store.metas(active)
        for job_id, meta in zip(active, metas, strict=True):
            if meta.get("target", "") == self.target.id and not await self.store.leases.leased(
                job_id
            ):
                tg.start_soon(self.run_job, job_id)
        await reap_dead_planners(self.store, self.clock())

    # pragma: no mutate start (running a job: process orchestration, covered by the
    # process-level tests: test_resume, test_stay_up, test_safety_control, chaos)
    async def run_job(self, job_id: str) -> JobStatus | None:
        if job_id in self._taken:  # recovery and the queue can both offer a job
            return None
        self._taken.add(job_id)
        try:
            return await self._run_job(job_id)
        except Exception as exc:
            if not is_store_error(exc):
                raise
            # the store went away mid-job: whoever holds the lease when it is back
            # (this worker, through recovery, or another) resumes the job
            log.warning("job %s: stopped, store unavailable (%s)", job_id, exc)
            return None
        finally:
            self._taken.discard(job_id)

    async def _run_job(self, job_id: str) -> JobStatus | None:
        store = self.store
        try:
            meta = await store.meta(job_id)
        except Exception:
            return None
        if meta.get("status") not in (JobStatus.QUEUED, JobStatus.RUNNING):
            if meta.get("status") in {s.value for s in JobStatus if s.terminal}:
                await store.finish(job_id)
            return None
        fence = await store.leases.claim(job_id, self.id, self.lease_ttl_ms, self.target.id)
        if fence is None:
            return None
        resumed = meta["status"] == JobStatus.RUNNING
        now = self.clock()
        fields: dict[str, Any] = {"worker": self.id, "fence": fence}
        if not meta.get("started_at"):
            fields["started_at"] = now
        fields["transitions_at_start"] = meta.get("transitions", 0) or 0
        event = JobStarted(ts=now, job_id=job_id, worker=self.id, fence=fence, resumed=resumed)
        ok, _ = await store.cas_status(
            job_id, [JobStatus.QUEUED, JobStatus.RUNNING], JobStatus.RUNNING, now, event, **fields
        )
        if not ok:
            await store.leases.release(job_id, self.id)
            return None
        try:
            try:
                brain = await self._load_brain(job_id, meta, fence)
            except SecretKeyError as exc:  # another key sealed the inputs: never run garbage
                return await self._unreadable(job_id, exc)
            self.brains[job_id] = brain
            await self._check_cancel(job_id, brain)  # requested before this worker took over
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._heartbeat, job_id, fence, brain)
                tg.start_soon(self._watch_cancel, job_id, brain)
                await brain.run()
                tg.cancel_scope.cancel()
            return await self._finish(job_id, brain)
        finally:
            self.brains.pop(job_id, None)
            with anyio.CancelScope(shield=True):
                await store.leases.release(job_id, self.id)

    async def _load_brain(self, job_id: str, meta: dict[str, str], fence: int) -> Brain:
        store = self.store
        spec = self.registry.get(meta["workflow"])
        phases = self.registry.ordered_phases(spec.name)
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
        )

    async def _unreadable(self, job_id: str, exc: SecretKeyError) -> JobStatus:
        """Fail the job with the key error (its inputs stay, sealed, for a retry)."""
        now, error = self.clock(), str(exc)
        log.error("job %s cannot run: %s", job_id, error)
        event = JobFinished(ts=now, job_id=job_id, status=JobStatus.FAILED.value, error=error)
        await self.store.cas_status(job_id, [JobStatus.RUNNING], JobStatus.FAILED, now, event,
                                    finished_at=now, error=error)  # fmt: skip
        await self.on_finished(job_id, JobStatus.FAILED)
        return JobStatus.FAILED

    async def _heartbeat(self, job_id: str, fence: int, brain: Brain) -> None:
        """Renew the lease every third of its TTL; while Redis is unreachable keep
        trying, until a whole TTL has passed since the last renewal: the lease may
        have lapsed, so stop (fenced) before another worker takes the job over."""
        ttl = self.lease_ttl_ms / 1000
        brain.journal.retry_window = ttl  # past it, its writes would be fenced out too
        renewed = anyio.current_time()
        backoff = Backoff(maximum=ttl / 3)
        pause = ttl / 3
        while True:
            await anyio.sleep(pause)
            started = anyio.current_time()
            try:
                ok = await self.store.leases.renew(job_id, self.id, self.lease_ttl_ms, fence)
            except STORE_ERRORS as exc:
                if anyio.current_time() - renewed < ttl:
                    if not backoff.failures:
                        log.warning("job %s: cannot renew the lease (%s); retrying", job_id, exc)
                    pause = backoff.delay()
                    continue
                ok = False  # a whole TTL without renewal: the lease may have lapsed
            if ok:
                renewed = started  # Redis counts the TTL from a later instant: safe side
                backoff.reset()
                pause = ttl / 3
                continue
            log.warning("lost the lease on job %s", job_id)
            brain.journal.fence_lost()
            brain.stop("fenced", hard=True)
            return

    async def _check_cancel(self, job_id: str, brain: Brain) -> None:
        """Honour the job's cancel request, if any: the one way a cancel reaches a job
        (`Store.cancel` persists it in the job's meta before anyone acknowledges it)."""
        read = functools.partial(self.store.cancel_request, job_id)
        mode = await retrying(read, what=f"job {job_id} cancel request")
        if mode:
            brain.request_cancel(mode)

    async def recheck_cancel(self, job_id: str) -> None:
        """Read the job's cancel request now if this worker runs the job: a cancel made
        in this process takes effect before it is acknowledged, not at the next poll."""
        brain = self.brains.get(job_id)
        if brain is not None:
            await self._check_cancel(job_id, brain)

    async def _watch_cancel(self, job_id: str, brain: Brain) -> None:
        """Read the request every `cancel_poll` seconds: a cancel lands within that
        bound even while every cell waits on a long activity (and nothing is flushed)."""
        while True:
            await anyio.sleep(self.config.cancel_poll)
            await self._check_cancel(job_id, brain)

    # pragma: no mutate end
    async def _finish(self, job_id: str, brain: Brain) -> JobStatus | None:
        if brain.stop_reason == "fenced":
            return None
        store = self.store
        if brain.stop_reason is not None:
            status = FINAL_STATUS[brain.stop_reason]
        elif brain.book.any_failed:
            status = JobStatus.PARTIAL
        elif brain.book.any_cancelled:  # cells cancelled by an earlier owner: never COMPLETED
            status = JobStatus.CANCELLED
        else:
            status = JobStatus.COMPLETED
        now = self.clock()
        event = JobFinished(
            ts=now,
            job_id=job_id,
            status=status.value,
            units_by_state=dict(brain.book.unit_counts),
            error=brain.error,
        )
        await store.cas_status(
            job_id,
            [JobStatus.RUNNING],
            status,
            now,
            event,
            finished_at=now if status.terminal else "",
            error=brain.error or "",
        )
        if status.terminal:
            await self.on_finished(job_id, status)
        self.finished += 1
        return status
