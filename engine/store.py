"""Everything the engine reads from and writes to Redis goes through here.

Redis is the single source of truth: any process holding a `Store` on the same
Redis sees the same jobs, cells, events and ledger.

Redis Cluster: every key of a job shares the hash tag `{job:<id>}` (one slot), and
every script and transaction here touches one job's keys only. The global indexes
(jobs, planning, active, each target's queue and workers) live in other slots, so
they are written by single-key commands outside the job's script or transaction,
in an order that leaves, after a crash between any two steps, a state the readers
and recovery repair (see `create_job`, `confirm`, `finish` and `active_jobs`).
Pipelines that mix slots are never transactional (a cluster client splits them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from engine import scripts
from engine.active_set import ActiveSet
from engine.errors import JobNotFound
from engine.event_stream import EventStream, blocking_pop
from engine.events import Event
from engine.keys import GlobalKeys, JobKeys, encode_value
from engine.lease_store import LeaseStore
from engine.models import Attempt, CellRecord, JobStatus, LedgerEntry, Plan
from engine.redis_client import AnyRedis
from engine.stop_requests import StopRequests
from engine.targets import target_key

DEFAULT_EVENTS_MAXLEN = 200_000
DEFAULT_FINISHED_TTL = 7 * 24 * 3600
DEFAULT_PLAN_TTL = 3600.0
PLAN_KEY_MARGIN = 600
"""Seconds an unconfirmed plan's keys outlive the plan (so EXPIRED can still be shown)."""


class Store:
    def __init__(
        self,
        redis: AnyRedis,
        *,
        prefix: str = "pg",
        events_maxlen: int = DEFAULT_EVENTS_MAXLEN,
        finished_ttl: int = DEFAULT_FINISHED_TTL,
        plan_ttl: float = DEFAULT_PLAN_TTL,
        on_purge: Callable[[], None] | None = None,
    ) -> None:
        self.redis = redis
        self.keys = GlobalKeys(prefix)
        self.events_maxlen = events_maxlen
        self.finished_ttl = finished_ttl
        self.plan_ttl = plan_ttl
        self.on_purge = on_purge
        """Called after inputs (secrets) were deleted, e.g. to rewrite the AOF."""
        self._flush = redis.register_script(scripts.FLUSH)
        self._cas = redis.register_script(scripts.CAS_STATUS)
        self._confirm = redis.register_script(scripts.CONFIRM)
        self.active = ActiveSet(redis, self.keys, self._retire)
        self.leases = LeaseStore(redis, self.keys)
        """Job leases and fences, planner leases, live workers."""
        self.stream = EventStream(redis, self.keys, events_maxlen)
        """The jobs' event streams."""
        self.requests = StopRequests(redis, self.keys, events_maxlen)
        """Cancel and pause requests, persisted before they are acknowledged."""

    def job(self, job_id: str) -> JobKeys:
        return self.keys.job(job_id)

    # -- creation and meta --------------------------------------------------

    async def create_job(
        self,
        job_id: str,
        meta: dict[str, Any],
        unit_keys: Sequence[str],
        inputs: Sequence[str],
        created_at: float,
        planner: tuple[str, int] | None = None,
    ) -> None:
        """Store a job being planned; its keys expire unless the plan is confirmed.
        `planner` (id, lease ms): the planning process's lease, set in the same
        transaction so no PLANNING job is ever seen without it.

        The job's keys first (one transaction, one slot), then the indexes: an index
        never names a job that does not exist yet (a listing would forget it, the
        planner reaper would drop a live planner's lease). A crash in between leaves
        an unlisted PLANNING job whose keys expire with the plan TTL."""
        k = self.job(job_id)
        ttl = _ttl(self.plan_ttl)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.meta, mapping={f: encode_value(v) for f, v in meta.items()})
            if planner is not None:
                pipe.set(k.planner, planner[0], px=planner[1])
            for start in range(0, len(unit_keys), 5000):
                pipe.rpush(k.unit_keys, *unit_keys[start : start + 5000])
            pairs = {str(i): v for i, v in enumerate(inputs)}
            items = list(pairs.items())
            for start in range(0, len(items), 5000):
                pipe.hset(k.inputs, mapping=dict(items[start : start + 5000]))
            for key in (k.meta, k.unit_keys, k.inputs):
                pipe.expire(key, ttl)
            await pipe.execute()
        if planner is not None:
            await self.redis.sadd(self.keys.planning, job_id)
        await self.redis.zadd(self.keys.jobs, {job_id: created_at})

    async def meta(self, job_id: str) -> dict[str, str]:
        data = await self.redis.hgetall(self.job(job_id).meta)
        if not data:
            raise JobNotFound(f"no job {job_id!r}")
        return data

    async def metas(self, job_ids: Sequence[str]) -> list[dict[str, str]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hgetall(self.job(job_id).meta)
            return await pipe.execute()

    async def set_meta(self, job_id: str, **fields: Any) -> None:
        await self.redis.hset(
            self.job(job_id).meta, mapping={f: encode_value(v) for f, v in fields.items()}
        )

    async def cas_status(
        self,
        job_id: str,
        expected: Iterable[str],
        new: str,
        now: float,
        event: Event | None = None,
        **fields: Any,
    ) -> tuple[bool, str]:
        """Set `status` to `new` only if it is one of `expected`; returns (ok, previous)."""
        k = self.job(job_id)
        expected = list(expected)
        argv: list[Any] = [new, now, self.events_maxlen, event.model_dump_json() if event else ""]
        argv += [len(expected), *expected, len(fields)]
        for f, v in fields.items():
            argv += [f, encode_value(v)]
        res, cur = await self._cas(keys=[k.meta, k.events], args=argv)
        if res == "missing":
            raise JobNotFound(f"no job {job_id!r}")
        return res == "ok", cur

    async def confirm(self, job_id: str, digest: str, now: float, event: Event) -> tuple[str, str]:
        """Confirm the plan (scripts.CONFIRM, the job's keys only), then queue the job.

        The order makes every crash between two steps recoverable:
        1. SADD active first: once the job is QUEUED it is in the active set, so if
           this process dies before the queue push a worker's recovery takes it over
           (active, no lease). If the script refuses, the id is pruned at once.
        2. the CONFIRM script: QUEUED, and the job's keys stop expiring.
        3. `enqueue`: SADD active again (a recovery that pruned the id while it was
           still AWAITING_CONFIRMATION cannot drop a queued job; engine/active_set.py),
           then RPUSH the target's queue, so a woken worker finds it QUEUED and active.
        """
        k = self.job(job_id)
        await self.mark_active(job_id)
        first = [k.meta, k.events, k.inputs]
        res, detail = await self._confirm(
            keys=first + [key for key in k.all() if key not in first and key != k.planner],
            args=[digest, now, self.events_maxlen, event.model_dump_json()],
        )
        if res == "ok":
            await self.enqueue(job_id)
        else:
            await self.active.settle([job_id])
        if res == "plan_expired":
            self._purged()
        return res, detail

    async def mark_active(self, job_id: str) -> None:
        """Add the job to the active set: before any step that makes it QUEUED."""
        await self.active.add(job_id)

    async def enqueue(self, job_id: str) -> None:
        """Queue the job, now QUEUED, for a worker of the target it was planned for.
        Active set first (step 3 of `confirm`), then the queue: separate commands,
        each key in its own slot on a cluster."""
        queue = self.keys.queue(await self.target_key_of(job_id))
        await self.mark_active(job_id)
        await self.redis.rpush(queue, job_id)

    async def target_key_of(self, job_id: str) -> str:
        return target_key(await self.redis.hget(self.job(job_id).meta, "target") or "")

    # -- plan -----------------------------------------------------------------

    async def save_plan(self, plan: Plan) -> None:
        """Store the plan; every key of the job lives as long as the plan (plus a margin)."""
        k = self.job(plan.job_id)
        ttl = _ttl(plan.expires_at - plan.created_at)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(k.plan, plan.model_dump_json(), ex=ttl)
            for key in k.all():
                pipe.expire(key, ttl)
            await pipe.execute()

    async def plan(self, job_id: str) -> Plan | None:
        raw = await self.plan_json(job_id)
        return Plan.model_validate_json(raw) if raw else None

    async def plan_json(self, job_id: str) -> str | None:
        """The stored plan as its JSON (a run keeps it compact: `engine.cell_plans`)."""
        return await self.redis.get(self.job(job_id).plan)

    # -- units and cells ------------------------------------------------------

    async def unit_keys(self, job_id: str, start: int = 0, stop: int = -1) -> list[str]:
        return await self.redis.lrange(self.job(job_id).unit_keys, start, stop)

    async def unit_count(self, job_id: str) -> int:
        return await self.redis.llen(self.job(job_id).unit_keys)

    async def inputs(self, job_id: str, indexes: Sequence[int] | None = None) -> dict[int, str]:
        fields = None if indexes is None else [str(i) for i in indexes]
        return {int(i): v for i, v in (await self._hash(self.job(job_id).inputs, fields)).items()}

    async def purge_inputs(self, job_id: str, rows: Sequence[int] | None = None) -> None:
        """Drop unit inputs (all, or those rows): they may hold secrets."""
        k = self.job(job_id).inputs
        removed = 0
        if rows is None:
            removed = await self.redis.delete(k)
        else:
            for start in range(0, len(rows), 1000):
                removed += await self.redis.hdel(k, *[str(r) for r in rows[start : start + 1000]])
        if removed:
            self._purged()

    def _purged(self) -> None:
        if self.on_purge is not None:
            self.on_purge()

    async def _hash(self, key: str, fields: Sequence[str] | None) -> dict[str, str]:
        """The hash's fields (all of them for None), leaving out those it lacks."""
        if fields is None:
            return await self.redis.hgetall(key)
        vals = await self.redis.hmget(key, list(fields)) if fields else []
        return {f: v for f, v in zip(fields, vals, strict=True) if v is not None}

    async def cells(self, job_id: str) -> dict[str, CellRecord]:
        return await self.cells_for(job_id, None)

    async def cells_for(self, job_id: str, fields: Sequence[str] | None) -> dict[str, CellRecord]:
        raw = await self._hash(self.job(job_id).cells, fields)
        return {f: CellRecord.model_validate_json(v) for f, v in raw.items()}

    async def values(self, job_id: str, fields: Sequence[str] | None = None) -> dict[str, dict]:
        raw = await self._hash(self.job(job_id).values, fields)
        return {f: json.loads(v) for f, v in raw.items()}

    async def attempts(self, job_id: str, fields: Sequence[str]) -> dict[str, list[Attempt]]:
        raw = await self._hash(self.job(job_id).attempts, fields)
        return {f: [Attempt.model_validate(a) for a in json.loads(v)] for f, v in raw.items()}

    async def reset_cells(self, job_id: str, cells: dict[str, CellRecord]) -> None:
        """Overwrite cell records (a retry sends cells back to pending)."""
        if cells:
            await self.redis.hset(
                self.job(job_id).cells,
                mapping={
                    f: r.model_dump_json(by_alias=True, exclude_defaults=True)
                    for f, r in cells.items()
                },
            )

    async def requeue(
        self,
        job_id: str,
        expected: str,
        cells: dict[str, CellRecord],
        now: float,
        event: Event,
        **fields: Any,
    ) -> tuple[bool, str]:
        """Send a job that is `expected` (finished or paused) back to its queue with
        `cells` reset (a retry, a resume): it stops expiring and forgets its end, its
        error and any cancel or pause request; `fields` are set with the status.
        Returns (ok, previous status) like `cas_status`."""
        await self.persist(job_id)
        await self.reset_cells(job_id, cells)
        ok, cur = await self.cas_status(
            job_id,
            [expected],
            JobStatus.QUEUED,
            now,
            event,
            finished_at="",
            error="",
            cancel="",
            pause="",
            **fields,
        )
        if ok:
            await self.enqueue(job_id)
        return ok, cur

    async def counts(self, job_id: str) -> dict[str, int]:
        raw = await self.redis.hgetall(self.job(job_id).counts)
        return {f: int(v) for f, v in raw.items()}

    # -- ledger ---------------------------------------------------------------

    async def ledger(self, job_id: str) -> list[LedgerEntry]:
        raw = await self.redis.lrange(self.job(job_id).ledger, 0, -1)
        return [LedgerEntry.model_validate_json(r) for r in raw]

    # -- the batched write ----------------------------------------------------

    async def flush(
        self,
        job_id: str,
        *,
        fence: int | None,
        cells: dict[str, str],
        values: dict[str, str],
        attempts: dict[str, str],
        counts: dict[str, int],
        meta: dict[str, Any],
        events: list[str],
        ledger: list[str],
        batch: str = "",
    ) -> tuple[str, bool]:
        """Write one batch atomically; returns (last cursor, still fenced-in).

        A batch sent again under the same non-empty `batch` id after it landed is not
        applied twice (a retry after a lost reply).
        """
        k = self.job(job_id)
        argv: list[Any] = ["" if fence is None else str(fence), self.events_maxlen, batch]
        for section in (cells, values, attempts, counts, meta):
            argv.append(len(section))
            for f, v in section.items():
                argv.append(f)
                argv.append(encode_value(v))
        argv.append(len(events))
        argv.extend(events)
        argv.append(len(ledger))
        argv.extend(ledger)
        last, status = await self._flush(
            keys=[k.cells, k.values, k.attempts, k.counts, k.events, k.meta, k.ledger, k.fence],
            args=argv,
        )
        return last, status == "ok"

    # -- indexes and expiry ---------------------------------------------------

    async def job_ids(self, offset: int = 0, limit: int = 100) -> list[str]:
        return await self.redis.zrevrange(self.keys.jobs, offset, offset + limit - 1)

    async def forget(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            await self.redis.zrem(self.keys.jobs, *job_ids)

    async def active_jobs(self) -> list[str]:
        """The QUEUED and RUNNING jobs (for crash recovery); other ids are pruned."""
        return await self.active.jobs()

    async def finish(self, job_id: str) -> None:
        """Finished jobs expire after `finished_ttl`; then drop from the active set.
        In that order: a crash in between leaves an active id that recovery prunes."""
        await self._retire(job_id)
        await self.active.remove(job_id)

    async def _retire(self, job_id: str) -> None:
        k = self.job(job_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            if self.finished_ttl > 0:
                for key in k.all():
                    pipe.expire(key, self.finished_ttl)
            await pipe.execute()

    async def persist(self, job_id: str) -> None:
        """A finished job goes back to work (retry): it must not expire meanwhile, and
        joins the active set before its status changes (see `confirm`)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.job(job_id).all():
                pipe.persist(key)
            await pipe.execute()
        await self.mark_active(job_id)

    async def next_queued(self, target_key: str, timeout: float) -> str | None:
        return await blocking_pop(self.redis, self.keys.queue(target_key), timeout)


def _ttl(seconds: float) -> int:
    return max(1, math.ceil(seconds)) + PLAN_KEY_MARGIN
