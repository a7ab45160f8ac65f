"""Mutation testing of the Lua scripts (mutmut does not mutate Lua inside Python strings).

Each row of MUTANTS plants one plausible bug in one script of engine/scripts.py; the
named check drives the real Store (its script swapped for the mutant) against the real
Redis and must fail on the mutant and pass on the original. A mutant no check catches
means the safety rule it breaks (fencing, lease ownership, target binding, confirm
guards, durable cancel) is untested.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from engine import scripts
from engine.errors import JobNotFound
from engine.events import CancelRequested, JobConfirmed, JobStatusChanged, PauseRequested
from engine.store import Store

pytestmark = pytest.mark.anyio

Check = Callable[[Store, Redis], Awaitable[None]]
ATTR = {  # where the store keeps each registered script
    "FLUSH": "_flush",
    "CAS_STATUS": "_cas",
    "CONFIRM": "_confirm",
    "CLAIM": "leases._claim",
    "RENEW": "leases._renew",
    "RELEASE": "leases._release",
    "CANCEL": "requests._cancel",
    "PAUSE": "requests._pause",
}


def _flush_args(**over: object) -> dict[str, object]:
    args: dict[str, object] = dict(
        cells={}, values={}, attempts={}, counts={}, meta={}, events=[], ledger=[]
    )
    args.update(over)
    return args


# -- checks: each asserts one safety rule of one script --------------------------------


async def flush_fenced_out(store: Store, redis: Redis) -> None:
    """A worker holding a stale fencing token writes nothing; each refusal is counted
    in the job's meta (never creating the meta of a job that is gone)."""
    fence = await store.leases.claim("j", "w1", 30_000, "")
    assert fence is not None
    meta = store.job("j").meta
    await redis.hset(meta, "status", "RUNNING")
    await redis.incr(store.job("j").fence)  # a takeover happened
    for n in (1, 2):
        _, ok = await store.flush("j", fence=fence, **_flush_args(cells={"0|p": "x"}))
        assert not ok
        assert await redis.hget(meta, "fenced_writes") == str(n)
    assert await redis.hgetall(store.job("j").cells) == {}
    _, ok = await store.flush("j", fence=fence + 1, **_flush_args(cells={"0|p": "y"}))
    assert ok
    assert await redis.hget(meta, "fenced_writes") == "2"
    await redis.delete(meta)  # the job was forgotten
    _, ok = await store.flush("j", fence=fence, **_flush_args())
    assert not ok and not await redis.exists(meta)


async def flush_writes_everything(store: Store, redis: Redis) -> None:
    """Every field of every section lands, events and ledger included."""
    cells = {f"{u}|p": f"c{u}" for u in range(1203)}  # crosses the 500-field chunks
    ledger = ['{"a":1}', '{"a":2}']
    last, ok = await store.flush(
        "j",
        fence=None,
        **_flush_args(cells=cells, meta={"m": "v"}, events=['{"e":1}'], ledger=ledger),
    )
    k = store.job("j")
    assert ok and last
    assert await redis.hgetall(k.cells) == cells
    assert await redis.hget(k.meta, "m") == '"v"' or await redis.hget(k.meta, "m") == "v"
    assert await redis.lrange(k.ledger, 0, -1) == ledger
    assert await redis.xlen(k.events) == 1


async def flush_batch_once(store: Store, redis: Redis) -> None:
    """A batch resent after a lost reply is not applied twice."""
    args = _flush_args(ledger=['{"a":1}'])
    await store.flush("j", fence=None, batch="b1", **args)
    await store.flush("j", fence=None, batch="b1", **args)
    assert await redis.llen(store.job("j").ledger) == 1
    await store.flush("j", fence=None, batch="b2", **args)
    assert await redis.llen(store.job("j").ledger) == 2


async def flush_on_top_of_its_last(store: Store, redis: Redis) -> None:
    """A journal's batch n > 1 lands only on top of its batch n - 1: when Redis lost
    batches it had acknowledged (restarted short of its fsync window), the writer is
    ahead of it and is refused ('lost', counted), writing nothing. A new journal (the
    job claimed again) starts on top of whatever Redis holds."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "RUNNING")

    async def flush(batch: str, job: str = "j") -> bool:
        return (await store.flush(job, fence=None, batch=batch, **_flush_args(ledger=[batch])))[1]

    assert await flush("a:1") and await flush("a:2")
    assert not await flush("a:4")  # a:3 was acknowledged, then lost with the AOF's tail
    assert await redis.lrange(k.ledger, 0, -1) == ["a:1", "a:2"]
    assert await redis.hget(k.meta, "lost_batches") == "1"
    assert await flush("b:1") and await flush("b:2") and await flush("b:2")
    assert await redis.lrange(k.ledger, 0, -1) == ["a:1", "a:2", "b:1", "b:2"]
    assert not await flush("c:7", job="gone") and not await redis.exists(store.job("gone").meta)


async def cas_compare(store: Store, redis: Redis) -> None:
    """CAS moves the status only from an expected one; a missing job is an error."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "RUNNING")
    ok, cur = await store.cas_status("j", ["QUEUED"], "COMPLETED", 1.0)
    assert (ok, cur) == (False, "RUNNING")
    assert await redis.hget(k.meta, "status") == "RUNNING"
    ok, cur = await store.cas_status("j", ["QUEUED", "RUNNING"], "COMPLETED", 2.0)
    assert (ok, cur) == (True, "RUNNING")
    assert await redis.hget(k.meta, "status") == "COMPLETED"
    try:
        await store.cas_status("nope", ["QUEUED"], "RUNNING", 3.0)
    except JobNotFound:
        return
    raise AssertionError("CAS on a missing job must raise JobNotFound")


async def cas_stream_expires(store: Store, redis: Redis) -> None:
    """An event written to an unconfirmed (expiring) job expires with it."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "PLANNING")
    await redis.pexpire(k.meta, 60_000)
    ev = JobStatusChanged(ts=1.0, job_id="j", status="AWAITING_CONFIRMATION")
    ok, _ = await store.cas_status("j", ["PLANNING"], "AWAITING_CONFIRMATION", 1.0, ev)
    assert ok
    assert await redis.pttl(k.events) > 0


async def _plan(store: Store, redis: Redis, **over: str) -> None:
    k = store.job("j")
    meta = {
        "status": "AWAITING_CONFIRMATION",
        "plan_digest": "d1",
        "plan_expires_at": "100",
        "plan_conflicts": "0",
        "target": "",
    }
    meta.update(over)
    await redis.hset(k.meta, mapping=meta)
    await redis.hset(k.inputs, "0", "secret-input")
    for key in (k.meta, k.inputs):
        await redis.pexpire(key, 600_000)


async def _confirm(store: Store, digest: str = "d1", now: float = 50.0) -> tuple[str, str]:
    return await store.confirm("j", digest, now, JobConfirmed(ts=now, job_id="j", digest=digest))


async def confirm_ok(store: Store, redis: Redis) -> None:
    """A good confirm queues the job for its target and stops every key expiring."""
    await _plan(store, redis)
    assert await _confirm(store) == ("ok", "AWAITING_CONFIRMATION")
    k = store.job("j")
    assert await redis.hget(k.meta, "status") == "QUEUED"
    assert await redis.pttl(k.inputs) == -1
    assert await redis.pttl(k.meta) == -1
    assert await redis.lrange(store.keys.queue(await store.target_key_of("j")), 0, -1) == ["j"]
    assert await redis.sismember(store.keys.active, "j")


async def confirm_digest(store: Store, redis: Redis) -> None:
    """A confirm of another plan (digest) than the one shown is refused."""
    await _plan(store, redis)
    assert (await _confirm(store, digest="other"))[0] == "digest_mismatch"
    assert await redis.hget(store.job("j").meta, "status") == "AWAITING_CONFIRMATION"


async def confirm_expired(store: Store, redis: Redis) -> None:
    """An expired plan is never confirmed, and its inputs (secrets) are purged."""
    await _plan(store, redis)
    assert (await _confirm(store, now=101.0))[0] == "plan_expired"
    k = store.job("j")
    assert await redis.hget(k.meta, "status") == "EXPIRED"
    assert not await redis.exists(k.inputs)


async def confirm_conflicts(store: Store, redis: Redis) -> None:
    """A plan with even one conflict is not confirmed."""
    await _plan(store, redis, plan_conflicts="1")
    assert await _confirm(store) == ("conflicts", "1")
    assert await redis.hget(store.job("j").meta, "status") == "AWAITING_CONFIRMATION"


async def confirm_state(store: Store, redis: Redis) -> None:
    """Only an awaiting plan is confirmed (no second queueing of a running job)."""
    await _plan(store, redis, status="RUNNING")
    assert await _confirm(store) == ("wrong_state", "RUNNING")
    assert await redis.llen(store.keys.queue(await store.target_key_of("j"))) == 0


async def claim_target(store: Store, redis: Redis) -> None:
    """A worker never claims a job planned for another target."""
    await redis.hset(store.job("j").meta, "target", "sim:http://a")
    assert await store.leases.claim("j", "w1", 30_000, "sim:http://b") is None
    assert not await store.leases.leased("j")
    assert await store.leases.claim("j", "w1", 30_000, "sim:http://a") is not None


async def claim_exclusive(store: Store, redis: Redis) -> None:
    """A held lease is not claimed again, and each claim fences out the previous one."""
    t1 = await store.leases.claim("j", "w1", 30_000, "")
    assert t1 is not None
    assert await store.leases.claim("j", "w2", 30_000, "") is None
    assert await redis.get(store.job("j").lease) == "w1"
    assert 0 < await redis.pttl(store.job("j").lease) <= 30_000
    await redis.delete(store.job("j").lease)  # the lease lapsed
    t2 = await store.leases.claim("j", "w2", 30_000, "")
    assert t2 is not None and t2 > t1


async def renew_owner(store: Store, redis: Redis) -> None:
    """Only the holder with the current fence renews; a renew extends the lease."""
    fence = await store.leases.claim("j", "w1", 1_000, "")
    assert fence is not None
    assert not await store.leases.renew("j", "w2", 60_000, fence)
    assert not await store.leases.renew("j", "w1", 60_000, fence + 1)
    assert await redis.pttl(store.job("j").lease) <= 1_000
    await redis.incr(store.job("j").fence)  # taken over meanwhile
    assert not await store.leases.renew("j", "w1", 60_000, fence)
    await redis.decr(store.job("j").fence)
    assert await store.leases.renew("j", "w1", 60_000, fence)
    assert await redis.pttl(store.job("j").lease) > 1_000


async def release_owner(store: Store, redis: Redis) -> None:
    """A worker drops only its own lease."""
    assert await store.leases.claim("j", "w1", 30_000, "") is not None
    assert not await store.leases.release("j", "w2")
    assert await store.leases.leased("j")
    assert await store.leases.release("j", "w1")
    assert not await store.leases.leased("j")


async def _cancel(store: Store, mode: str) -> tuple[str, str]:
    return await store.requests.cancel(
        "j", mode, 1.0, CancelRequested(ts=1.0, job_id="j", mode=mode)
    )


async def cancel_running(store: Store, redis: Redis) -> None:
    """A running job's cancel is persisted; hard is never downgraded to graceful."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "RUNNING")
    assert await _cancel(store, "graceful") == ("requested", "RUNNING")
    assert await redis.hget(k.meta, "cancel") == "graceful"
    assert await _cancel(store, "hard") == ("requested", "RUNNING")
    assert await _cancel(store, "graceful") == ("requested", "RUNNING")
    assert await redis.hget(k.meta, "cancel") == "hard"
    assert await redis.hget(k.meta, "status") == "RUNNING"


async def cancel_idle(store: Store, redis: Redis) -> None:
    """A job not started yet (queued, paused, awaiting) is cancelled at once."""
    for status in ("QUEUED", "PAUSED", "AWAITING_CONFIRMATION", "PLANNING"):
        await redis.hset(store.job("j").meta, "status", status)
        assert await _cancel(store, "graceful") == ("cancelled", status)
        assert await redis.hget(store.job("j").meta, "status") == "CANCELLED"


async def cancel_finished(store: Store, redis: Redis) -> None:
    """A finished job is left alone."""
    await redis.hset(store.job("j").meta, "status", "COMPLETED")
    assert await _cancel(store, "hard") == ("no", "COMPLETED")
    assert await redis.hget(store.job("j").meta, "cancel") is None


async def _pause(store: Store) -> tuple[str, str]:
    return await store.requests.pause("j", 1.0, PauseRequested(ts=1.0, job_id="j"))


async def pause_running(store: Store, redis: Redis) -> None:
    """A running job's pause is persisted (the owner reads it); the job stays RUNNING."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "RUNNING")
    assert await _pause(store) == ("requested", "RUNNING")
    assert await redis.hget(k.meta, "pause") == "1"
    assert await redis.hget(k.meta, "status") == "RUNNING"
    assert await redis.xlen(k.events) == 1


async def pause_queued(store: Store, redis: Redis) -> None:
    """A queued job pauses at once."""
    k = store.job("j")
    await redis.hset(k.meta, "status", "QUEUED")
    assert await _pause(store) == ("paused", "QUEUED")
    assert await redis.hget(k.meta, "status") == "PAUSED"


async def pause_refused(store: Store, redis: Redis) -> None:
    """Nothing else pauses, and a cancel request outranks a pause."""
    k = store.job("j")
    for status in ("COMPLETED", "PAUSED", "AWAITING_CONFIRMATION", "PLANNING"):
        await redis.hset(k.meta, "status", status)
        assert await _pause(store) == ("no", status)
    await redis.hset(k.meta, mapping={"status": "RUNNING", "cancel": "graceful"})
    assert await _pause(store) == ("no", "RUNNING")
    assert await redis.hget(k.meta, "pause") is None
    assert await redis.xlen(k.events) == 0


CHECKS: dict[str, list[Check]] = {
    "FLUSH": [
        flush_fenced_out,
        flush_writes_everything,
        flush_batch_once,
        flush_on_top_of_its_last,
    ],
    "CAS_STATUS": [cas_compare, cas_stream_expires],
    "CONFIRM": [confirm_ok, confirm_digest, confirm_expired, confirm_conflicts, confirm_state],
    "CLAIM": [claim_target, claim_exclusive],
    "RENEW": [renew_owner],
    "RELEASE": [release_owner],
    "CANCEL": [cancel_running, cancel_idle, cancel_finished],
    "PAUSE": [pause_running, pause_queued, pause_refused],
}

# (script, mutation id, text to replace, replacement, the check that must catch it)
MUTANTS: list[tuple[str, str, str, str, Check]] = [
    ("FLUSH", "no-fence-check", "if cur ~= fence then", "if false then", flush_fenced_out),
    ("FLUSH", "fence-never-checked", "if fence ~= '' then", "if false then", flush_fenced_out),
    (
        "FLUSH",
        "fenced-not-counted",
        "redis.call('HINCRBY', KEYS[6], 'fenced_writes', 1)",
        "",
        flush_fenced_out,
    ),
    (
        "FLUSH",
        "counted-without-meta",
        "if redis.call('EXISTS', KEYS[6]) == 1 then",
        "if true then",
        flush_fenced_out,
    ),
    (
        "FLUSH",
        "chunk-drops-last",
        "for k = j, stop - 1 do",
        "for k = j, stop - 2 do",
        flush_writes_everything,
    ),
    ("FLUSH", "chunk-500-once", "j = stop\n", "j = n\n", flush_writes_everything),
    (
        "FLUSH",
        "no-ledger",
        "redis.call('RPUSH', KEYS[7], ARGV[i + k])",
        "",
        flush_writes_everything,
    ),
    (
        "FLUSH",
        "no-meta",
        "hset_section(KEYS[6])\n",
        "i = i + 1 + 2 * tonumber(ARGV[i])\n",
        flush_writes_everything,
    ),
    (
        "FLUSH",
        "no-events",
        "last = redis.call('XADD'",
        "local _ = redis.call('XADD'",
        flush_writes_everything,
    ),
    (
        "FLUSH",
        "no-batch-dedupe",
        "if last_batch == batch then",
        "if false then",
        flush_batch_once,
    ),
    (
        "FLUSH",
        "lost-batches-accepted",
        "if seq and tonumber(seq) > 1 and last_batch ~=",
        "if false and last_batch ~=",
        flush_on_top_of_its_last,
    ),
    (
        "FLUSH",
        "first-batch-chained",
        "tonumber(seq) > 1",
        "tonumber(seq) > 0",
        flush_on_top_of_its_last,
    ),
    (
        "FLUSH",
        "chained-to-the-wrong-batch",
        "(tonumber(seq) - 1)",
        "(tonumber(seq) - 2)",
        flush_on_top_of_its_last,
    ),
    (
        "FLUSH",
        "lost-not-counted",
        "redis.call('HINCRBY', KEYS[6], 'lost_batches', 1)",
        "",
        flush_on_top_of_its_last,
    ),
    (
        "FLUSH",
        "lost-counted-without-meta",
        "if redis.call('EXISTS', KEYS[6]) ~= 0 then",
        "if true then",
        flush_on_top_of_its_last,
    ),
    (
        "FLUSH",
        "batch-not-recorded",
        "redis.call('HSET', KEYS[6], 'flush_batch', batch)",
        "",
        flush_batch_once,
    ),
    ("CAS_STATUS", "no-compare", "if not ok then return {'no', cur} end", "", cas_compare),
    ("CAS_STATUS", "last-expected-ignored", "for k = 1, n do", "for k = 1, n - 1 do", cas_compare),
    (
        "CAS_STATUS",
        "missing-not-reported",
        "if not cur then return {'missing', ''} end",
        "if not cur then return {'no', ''} end",
        cas_compare,
    ),
    (
        "CAS_STATUS",
        "stream-never-expires",
        "if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end",
        "",
        cas_stream_expires,
    ),
    ("CONFIRM", "no-digest-check", "if digest ~= ARGV[1] then", "if false then", confirm_digest),
    (
        "CONFIRM",
        "no-expiry-check",
        "if tonumber(ARGV[2]) > expires then",
        "if false then",
        confirm_expired,
    ),
    ("CONFIRM", "expired-keeps-inputs", "redis.call('DEL', KEYS[3])", "", confirm_expired),
    ("CONFIRM", "no-conflicts-check", "if conflicts > 0 then", "if false then", confirm_conflicts),
    (
        "CONFIRM",
        "conflicts-off-by-one",
        "if conflicts > 0 then",
        "if conflicts > 1 then",
        confirm_conflicts,
    ),
    (
        "CONFIRM",
        "no-state-check",
        "if cur ~= 'AWAITING_CONFIRMATION' then",
        "if false then",
        confirm_state,
    ),
    ("CONFIRM", "keys-still-expire", "  redis.call('PERSIST', KEYS[k])\n", "", confirm_ok),
    ("CONFIRM", "meta-still-expires", "redis.call('PERSIST', KEYS[1])\n", "", confirm_ok),
    (
        "CLAIM",
        "no-target-check",
        "if (redis.call('HGET', KEYS[3], 'target') or '') ~= ARGV[3] then return -2 end",
        "",
        claim_target,
    ),
    (
        "CLAIM",
        "no-lease-check",
        "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end",
        "",
        claim_exclusive,
    ),
    ("CLAIM", "lease-never-expires", "ARGV[1], 'PX', ARGV[2])", "ARGV[1])", claim_exclusive),
    (
        "CLAIM",
        "fence-not-advanced",
        "return redis.call('INCR', KEYS[2])",
        "return tonumber(redis.call('GET', KEYS[2]) or '1')",
        claim_exclusive,
    ),
    (
        "RENEW",
        "no-owner-check",
        "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end",
        "",
        renew_owner,
    ),
    (
        "RENEW",
        "no-fence-check",
        "if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end",
        "",
        renew_owner,
    ),
    ("RENEW", "not-extended", "redis.call('PEXPIRE', KEYS[1], ARGV[2])", "", renew_owner),
    (
        "RELEASE",
        "no-owner-check",
        "if redis.call('GET', KEYS[1]) == ARGV[1] then",
        "if true then",
        release_owner,
    ),
    (
        "CANCEL",
        "hard-downgraded",
        "if redis.call('HGET', KEYS[1], 'cancel') == 'hard' then mode = 'hard' end",
        "",
        cancel_running,
    ),
    (
        "CANCEL",
        "request-not-persisted",
        "redis.call('HSET', KEYS[1], 'cancel', mode, 'updated_at'",
        "redis.call('HSET', KEYS[1], 'updated_at'",
        cancel_running,
    ),
    (
        "CANCEL",
        "running-cancelled-at-once",
        "RUNNING' then\n  local mode",
        "X' then\n  local mode",
        cancel_running,
    ),
    ("CANCEL", "queued-not-idle", "QUEUED=1, ", "", cancel_idle),
    ("CANCEL", "paused-not-idle", "PAUSED=1", "", cancel_idle),
    (
        "CANCEL",
        "finished-cancelled",
        "elseif cur == 'RUNNING' then",
        "elseif cur ~= 'QUEUED' then",
        cancel_finished,
    ),
    (
        "PAUSE",
        "request-not-persisted",
        "redis.call('HSET', KEYS[1], 'pause', '1', 'updated_at', ARGV[1])",
        "redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])",
        pause_running,
    ),
    (
        "PAUSE",
        "running-paused-at-once",
        "if cur == 'RUNNING' then return",
        "if false then return",
        pause_running,
    ),
    ("PAUSE", "queued-not-paused", "if cur == 'QUEUED' then", "if false then", pause_queued),
    ("PAUSE", "anything-pauses", "elseif cur == 'RUNNING' and", "elseif", pause_refused),
    (
        "PAUSE",
        "cancel-outranked",
        "and (redis.call('HGET', KEYS[1], 'cancel') or '') == ''",
        "",
        pause_refused,
    ),
    ("PAUSE", "no-event", "redis.call('XADD'", "redis.call('TYPE'", pause_running),
]


def _store(redis: Redis, prefix: str, name: str | None = None, source: str = "") -> Store:
    store = Store(redis, prefix=prefix)
    if name is not None:
        *path, attr = ATTR[name].split(".")
        owner = functools.reduce(getattr, path, store)
        assert hasattr(owner, attr), ATTR[name]
        setattr(owner, attr, redis.register_script(source))
    return store


@pytest.mark.parametrize(
    "check", [c for cs in CHECKS.values() for c in cs], ids=lambda c: c.__name__
)
async def test_check_passes_on_original(redis: Redis, prefix: str, check: Check) -> None:
    await check(_store(redis, prefix), redis)


@pytest.mark.parametrize(
    ("name", "old", "new", "check"),
    [pytest.param(n, o, w, c, id=f"{n}-{m}") for n, m, o, w, c in MUTANTS],
)
async def test_mutant_is_killed(
    redis: Redis, prefix: str, name: str, old: str, new: str, check: Check
) -> None:
    original = getattr(scripts, name)
    assert original.count(old) == 1, f"mutation site not unique in {name}: {old!r}"
    mutant = original.replace(old, new)
    # a wrong result, or the script failing loudly (the write never lands silently)
    with pytest.raises((AssertionError, ResponseError)):
        await check(_store(redis, prefix, name, mutant), redis)


def test_every_script_has_checks_and_mutants() -> None:
    """A new script must come with its checks and mutants."""
    names = {n for n in dir(scripts) if n.isupper()}
    assert names == set(CHECKS) == set(ATTR) == {m[0] for m in MUTANTS}
