"""Workers claim confirmed jobs and run their brains.

A worker serves one target (the backend its engine's resources reach) and
claims only jobs planned for that target: it waits on that target's queue,
and the claim script refuses a job of any other target. A job is claimed with
a lease (a key with a TTL, renewed by heartbeat) and a fencing token: a worker
that lost its lease has its writes refused by Redis, so a job taken over after
a crash is never written by two workers. A cancel request lives in the job's
meta, so whoever owns the job, now or after a takeover, honours it.

A worker drains before it stops (`drain`): it claims nothing more, its jobs start
no new cell while their calls in flight land, and each job is then left RUNNING
with its lease released and queued again, so another worker resumes it at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from engine.activities import ActivityBackend, ActivityTracker
from engine.backoff import STORE_ERRORS, Backoff, is_store_error, retrying
from engine.brain import Brain
from engine.config import EngineConfig
from engine.events import JobFinished, JobStarted, Log
from engine.lease import LEASE, JobLease
from engine.loading import BrainLoader
from engine.models import JobStatus
from engine.planner_lease import reap_dead_planners
from engine.registry import Registry
from engine.room import Room
from engine.secretbox import SecretBox, SecretKeyError
from engine.store import Store
from engine.targets import Target
from engine.waves import GATE

log = logging.getLogger("phasegrid.worker")

FINAL_STATUS = {
    "cancelled": JobStatus.CANCELLED,
    "failed": JobStatus.FAILED,
    "aborted": JobStatus.FAILED,
    "paused": JobStatus.PAUSED,
    "wave": JobStatus.PAUSED,
}


class Worker:
    draining: bool = False
    """Set by `drain`: no new job, no new cell."""
    slots: anyio.CapacityLimiter | None = None
    """An in-flight limit shared by every job of this worker (None: one per job)."""

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
        self.config = config
        self.target = target
        self.clock = clock
        self.on_finished = on_finished
        self.loader = BrainLoader(
            store=store,
            registry=registry,
            secrets=secrets,
            config=config,
            resources=resources,
            tracker_for=tracker_for,
            clock=clock,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        self.id = f"w-{uuid.uuid4().hex[:8]}"
        self.lease_ttl_ms = int(config.lease_ttl * 1000)
        self.brains: dict[str, Brain] = {}
        self._taken: set[str] = set()
        self.room = Room()
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
            while not self.draining:
                try:
                    await self.announce(idle_check)
                    if not recovered:
                        await self.recover(tg)
                        recovered = True
                    if not await self.room.wait(self.slots, self.brains.__contains__, idle_check):
                        recovered = False  # busy: still take over dead workers' jobs
                        continue
                    job_id = await self.store.next_queued(key, timeout=idle_check)
                    if job_id:
                        self._start(tg, job_id)
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
    def drain(self) -> None:
        """Stop gracefully: take no new job (`serve` returns); the jobs running here
        start no new cell (calls in flight land); each is then handed over (see
        `_hand_over`). The caller bounds the wait (`drained`)."""
        self.draining = True
        for brain in list(self.brains.values()):
            self._drain(brain)

    def _drain(self, brain: Brain) -> None:
        if brain.stop_reason is None:
            message = f"worker {self.id} is stopping: no new cell; the job is handed over"
            brain.journal.event(Log(ts=self.clock(), job_id=brain.job_id, message=message))
            brain.stop("drained")

    async def drained(self, poll: float = 0.05) -> None:
        """Return once no job runs here any more (after `drain`)."""
        while self._taken:
            await anyio.sleep(poll)

    async def _hand_over(self, job_id: str) -> None:
        """A job this worker stops running (drained, its lease released) or declines
        (offered during the drain) goes back on its queue: the next worker takes it
        now rather than after a lease TTL or at its next recovery scan."""
        try:
            await self.store.enqueue(job_id)
        except STORE_ERRORS as exc:  # then another worker's recovery finds it
            log.warning("job %s: not queued again (%s)", job_id, exc)

    async def recover(self, tg: Any) -> None:
        """Take over jobs of this worker's target whose worker died; fail jobs whose
        planner died. (The claim script checks the target too: this only saves work.)"""
        active = [j for j in await self.store.active_jobs() if j not in self._taken]
        metas = await self.store.metas(active)
        for job_id, meta in zip(active, metas, strict=True):
            if meta.get("target", "") == self.target.id and not await self.store.leases.leased(
                job_id
            ):
                queued = meta.get("status") == JobStatus.QUEUED  # a dead worker's: take it now
                if not queued or self.room.free(self.slots, self.brains.__contains__):
                    self._start(tg, job_id)
        await reap_dead_planners(self.store, self.clock())

    def _start(self, tg: Any, job_id: str) -> None:
        """Run the job in `tg`; until it runs here, this worker has no room (`Room`)."""

        async def run() -> None:
            try:
                await self.run_job(job_id)
            finally:
                self.room.starting.discard(job_id)

        self.room.starting.add(job_id)
        tg.start_soon(run)

    # pragma: no mutate start (running a job: process orchestration, covered by the
    # process-level tests: test_resume, test_stay_up, test_safety_control, chaos)
    async def run_job(self, job_id: str) -> JobStatus | None:
        if self.draining:  # offered as the drain began: back on the queue for another worker
            await self._hand_over(job_id)
            return None
        if job_id in self._taken:  # recovery and the queue can both offer a job
            return None
        self._taken.add(job_id)
        try:
            status = await self._run_job(job_id)
            if status is not None:
                log.info("job %s: finished %s", job_id, status.value)
            return status
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
        claimed_at = anyio.current_time()  # the lease runs from no earlier than this
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
        log.info("job %s: claimed by %s (fence %s%s)", job_id, self.id, fence,
                 ", resumed" if resumed else "")  # fmt: skip
        brain: Brain | None = None
        lease: JobLease | None = None
        try:
            try:
                brain = await self.loader.load(job_id, meta, fence, self.slots)
            except SecretKeyError as exc:  # another key sealed the inputs: never run garbage
                return await self._unreadable(job_id, exc)
            ttl = self.lease_ttl_ms / 1000
            lease = JobLease(job_id, ttl, claimed_at, functools.partial(self._lost, brain))
            LEASE.set(lease)  # this task's, and its children's: the job's cells
            self.brains[job_id] = brain
            if self.draining:  # drain() ran while this job was being claimed
                self._drain(brain)
            await self._check_cancel(job_id, brain)  # requested before this worker took over
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._heartbeat, job_id, fence, brain, lease)
                tg.start_soon(self._watch_cancel, job_id, brain)
                await brain.run()
                tg.cancel_scope.cancel()
            return await self._finish(job_id, brain)
        finally:
            self.brains.pop(job_id, None)
            if lease is not None:
                lease.closed = True
            with anyio.CancelScope(shield=True):
                await store.leases.release(job_id, self.id)
                if brain is not None and brain.stop_reason == "drained":
                    await self._hand_over(job_id)

    async def _unreadable(self, job_id: str, exc: SecretKeyError) -> JobStatus:
        """Fail the job with the key error (its inputs stay, sealed, for a retry)."""
        now, error = self.clock(), str(exc)
        log.error("job %s cannot run: %s", job_id, error)
        event = JobFinished(ts=now, job_id=job_id, status=JobStatus.FAILED.value, error=error)
        await self.store.cas_status(job_id, [JobStatus.RUNNING], JobStatus.FAILED, now, event,
                                    finished_at=now, error=error)  # fmt: skip
        await self.on_finished(job_id, JobStatus.FAILED)
        return JobStatus.FAILED

    async def _heartbeat(self, job_id: str, fence: int, brain: Brain, lease: JobLease) -> None:
        """Renew the lease every third of its TTL; while Redis is unreachable keep
        trying, until a whole TTL has passed since the last renewal: the lease may
        have lapsed, so stop (fenced) before another worker takes the job over."""
        ttl = self.lease_ttl_ms / 1000
        brain.journal.retry_window = ttl  # past it, its writes would be fenced out too
        backoff = Backoff(maximum=ttl / 3)
        pause = ttl / 3
        while True:
            await anyio.sleep(pause)
            started = anyio.current_time()
            try:
                ok = await self.store.leases.renew(job_id, self.id, self.lease_ttl_ms, fence)
            except STORE_ERRORS as exc:
                if anyio.current_time() < lease.valid_until:
                    if not backoff.failures:
                        log.warning("job %s: cannot renew the lease (%s); retrying", job_id, exc)
                    pause = backoff.delay()
                    continue
                ok = False  # a whole TTL without renewal: the lease may have lapsed
            if ok:
                lease.renewed(started)  # Redis counts the TTL from a later instant: safe side
                backoff.reset()
                pause = ttl / 3
                continue
            self._lost(brain)
            return

    def _lost(self, brain: Brain) -> None:
        """The lease is gone, or may be (see `engine.lease`): stop now, write nothing."""
        if brain.stop_reason != "fenced":
            log.warning("lost the lease on job %s", brain.job_id)
        brain.journal.fence_lost()
        brain.stop("fenced", hard=True)

    async def _check_cancel(self, job_id: str, brain: Brain) -> None:
        """Honour the job's cancel request, if any: the one way a cancel reaches a job
        (`Store.cancel` persists it in the job's meta before anyone acknowledges it)."""
        read = functools.partial(self.store.requests.read, job_id)
        mode, pause = await retrying(read, what=f"job {job_id} cancel request")
        if mode:
            brain.request_cancel(mode)
        elif pause and brain.stop_reason is None:
            brain.stop("paused")
            why = "pausing: in-flight work lands, nothing new starts"
            brain.journal.event(Log(ts=self.clock(), job_id=job_id, message=why))

    async def recheck_cancel(self, job_id: str) -> None:
        """Read the job's cancel (and pause) request now if this worker runs the job: one made
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
        if brain.stop_reason in ("fenced", "drained"):
            log.info("job %s: left RUNNING (%s)", job_id, brain.stop_reason)
            return None
        store = self.store
        if brain.stop_reason is not None:
            status = FINAL_STATUS[brain.stop_reason]
        elif brain.book.any_failed:  # no unit succeeded: FAILED, not PARTIAL
            status = JobStatus.PARTIAL if brain.book.unit_counts["succeeded"] else JobStatus.FAILED
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
            **({"wave_state": GATE} if brain.stop_reason == "wave" else {}),
        )
        if status.terminal:
            await self.on_finished(job_id, status)
        self.finished += 1
        return status
