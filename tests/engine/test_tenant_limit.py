"""The tenant rate limiter shared through Redis (GCRA with reservations, one Lua
script), on the real Redis fixture. Two `SharedLimiter`s on one Redis stand for
two workers. Deterministic: an injected clock replaces Redis TIME and moves only
when a fake sleep or the test moves it."""

from __future__ import annotations

import json
import logging

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from engine.keys import GlobalKeys
from engine.limits import RateLimiter
from engine.tenant_limit import SharedLimiter, read_limits

pytestmark = pytest.mark.anyio

T0 = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(redis: Redis, prefix: str, clock: Clock, **kw: object) -> SharedLimiter:
    kw.setdefault("default", (10.0, 8.0))  # 10 calls/s, documented burst 8 (4 used)
    return SharedLimiter(
        redis,
        "tenant-a",
        prefix=prefix,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


async def waits(lim: SharedLimiter, n: int, family: str = "wifi_api") -> list[float]:
    out = []
    for _ in range(n):
        slot = await lim.reserve(family)
        assert slot is not None
        out.append(round(slot.wait, 6))
    return out


async def test_gcra_burst_then_even_spacing_and_the_burst_refills_when_idle(redis, prefix):
    clock = Clock()
    lim = limiter(redis, prefix, clock)
    assert isinstance(lim, RateLimiter)
    # half the documented burst goes at once, then one slot every 1/rate
    assert await waits(lim, 7) == [0, 0, 0, 0, 0.1, 0.2, 0.3]
    clock.now += 10.0  # idle: the burst is back, and no more
    assert await waits(lim, 6) == [0, 0, 0, 0, 0.1, 0.2]
    # acquire sleeps until its slot: 20 more calls take 20 / rate seconds
    start = clock.now
    for _ in range(20):
        await lim.acquire(key="wifi_api")
    assert clock.now - start == pytest.approx(2.2)  # the 0.2 already reserved ahead, + 2.0
    assert all(s == pytest.approx(0.1) for s in clock.slept[1:])


async def test_families_are_separate_limiters_with_their_own_limits(redis, prefix):
    clock = Clock()
    lim = limiter(redis, prefix, clock, limits={"dpsk_service": (2.0, 2.0)})
    assert await waits(lim, 3, "dpsk_service") == [0, 0.5, 1.0]
    assert await waits(lim, 4, "wifi_api") == [0, 0, 0, 0]  # not behind dpsk


async def test_two_workers_share_one_rate_first_come_first_served(redis, prefix):
    clock = Clock()
    a, b = limiter(redis, prefix, clock), limiter(redis, prefix, clock)
    got = []
    for _ in range(6):  # interleaved asks after the shared burst
        for name, lim in (("a", a), ("b", b)):
            slot = await lim.reserve("wifi_api")
            assert slot is not None
            got.append((name, round(slot.wait, 6)))
    slots = [w for _, w in got]
    assert slots[:4] == [0, 0, 0, 0]  # ONE burst between both workers, not one each
    assert slots[4:] == [pytest.approx(0.1 * i) for i in range(1, 9)]  # in asking order
    assert [n for n, _ in got[4:]] == ["a", "b"] * 4  # each worker gets every other slot


async def test_a_volley_of_429s_halves_once_per_window_and_retry_after_pauses_every_worker(
    redis, prefix
):
    clock = Clock()
    a, b = limiter(redis, prefix, clock, window=5.0), limiter(redis, prefix, clock, window=5.0)
    await waits(a, 4)
    for _ in range(10):  # the calls in flight all get their 429: one signal
        await a.penalize(3.0, key="wifi_api")
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert (state.rate, state.halvings, state.rate_limited) == (5.0, 1, 10)
    assert state.paused_for == pytest.approx(3.0)
    # the other worker waits out the pause too, then goes at the halved pace: no burst
    assert await waits(b, 3) == [3.0, 3.2, 3.4]
    clock.now += 4.0  # past the pause, still inside the window: no second halving
    await b.penalize(None, key="wifi_api")
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert state.halvings == 1 and state.paused_for == pytest.approx(0.2)  # one interval
    clock.now += 1.5  # past the window: a new 429 is news (after 0.5 s of recovery)
    await b.penalize(None, key="wifi_api")
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert state.halvings == 2 and state.rate == pytest.approx((5.0 + 0.5 * 10 / 60) / 2, abs=1e-3)


async def test_recovery_is_additive_after_the_pause_and_stops_at_the_documented_rate(redis, prefix):
    clock = Clock()
    lim = limiter(redis, prefix, clock, recovery=30.0, window=1.0)
    await lim.penalize(2.0, key="wifi_api")  # 10 -> 5 calls/s, paused 2 s
    step = 10.0 / 2 / 30.0  # calls/s regained per calm second: half the rate in 30 s
    clock.now += 2.0 + 15.0  # the pause, then 15 calm seconds
    slot = await lim.reserve("wifi_api")
    assert slot is not None and slot.rate == pytest.approx(5.0 + 15.0 * step)  # 7.5, not 10
    clock.now += 1000.0
    slot = await lim.reserve("wifi_api")
    assert slot is not None and slot.rate == pytest.approx(10.0)  # never above documented
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert (state.rate, state.documented_rate) == (10.0, 10.0)


async def test_the_rate_never_drops_below_its_floor(redis, prefix):
    clock = Clock()
    lim = limiter(redis, prefix, clock, window=0.0)
    for _ in range(20):
        await lim.penalize(0.0, key="wifi_api")
        clock.now += 0.001
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert state.rate == pytest.approx(10.0 / 16, abs=1e-3)


async def test_a_slot_reserved_before_another_workers_429_waits_out_its_pause(redis, prefix):
    clock = Clock()
    a, b = limiter(redis, prefix, clock), limiter(redis, prefix, clock)
    await waits(a, 4)  # the burst is spent: a's next slot is 0.1 s away

    async def sleep_while_b_hits_a_429(seconds: float) -> None:
        if not clock.slept:
            await b.penalize(2.0, key="wifi_api")  # during a's sleep
        await clock.sleep(seconds)

    a._sleep = sleep_while_b_hits_a_429
    await a.acquire(key="wifi_api")
    assert clock.now == pytest.approx(T0 + 2.0)  # re-reserved: after the shared pause
    [state] = await read_limits(redis, prefix, now=clock.now)
    assert state.calls == 5  # the re-reservation is the same call, counted once


async def test_state_is_read_back_per_tenant_and_family_without_secrets(redis, prefix):
    clock = Clock()
    lim = limiter(redis, prefix, clock)
    await waits(lim, 6)
    await waits(lim, 1, "dpsk_service")
    await lim.penalize(1.0, key="wifi_api")
    states = {(s.tenant, s.family): s for s in await read_limits(redis, prefix, now=clock.now)}
    wifi = states["tenant-a", "wifi_api"]
    assert (wifi.calls, wifi.waits, wifi.rate_limited) == (6, 2, 1)
    assert wifi.wait_seconds == pytest.approx(0.1 + 0.2)
    assert (wifi.rate, wifi.documented_rate, wifi.burst) == (5.0, 10.0, 4.0)
    assert states["tenant-a", "dpsk_service"].calls == 1
    await redis.delete(lim.key("dpsk_service"))  # expired after a day unused: dropped
    assert [s.family for s in await read_limits(redis, prefix, now=clock.now)] == ["wifi_api"]
    await waits(lim, 1, "dpsk_service")  # used again: listed again, counting afresh
    states = {s.family: s for s in await read_limits(redis, prefix, now=clock.now)}
    assert sorted(states) == ["dpsk_service", "wifi_api"] and states["dpsk_service"].calls == 1


async def test_keys_are_single_slot_per_tenant_and_the_script_touches_only_its_key(redis, prefix):
    keys = GlobalKeys(prefix)
    tenant = "acme/{cust}"  # braces would move the hash tag: they are replaced
    slots = {key_slot(keys.rate_limit(tenant, f).encode()) for f in ("wifi_api", "dpsk_service")}
    assert len(slots) == 1
    assert keys.rate_limit(tenant, "wifi_api").count("{") == 1
    lim = SharedLimiter(redis, tenant, prefix=prefix, clock=Clock())
    await lim.reserve("wifi_api")
    await lim.penalize(1.0, key="wifi_api")
    assert sorted([k async for k in redis.scan_iter(match=f"{prefix}:*")]) == sorted(
        [keys.rate_limit(tenant, "wifi_api"), keys.rate_limits]
    )
    assert await redis.smembers(keys.rate_limits) == {json.dumps([tenant, "wifi_api"])}
    assert 0 < await redis.pttl(keys.rate_limit(tenant, "wifi_api")) <= 24 * 3600 * 1000


async def test_without_an_injected_clock_the_redis_servers_time_is_used(redis, prefix):
    lim = SharedLimiter(redis, "tenant-a", prefix=prefix)
    seconds, micros = await redis.time()
    slot = await lim.reserve("wifi_api")
    assert slot is not None and slot.now == pytest.approx(seconds + micros / 1e6, abs=5.0)


async def test_redis_unreachable_falls_back_to_the_process_bucket_and_logs_once(caplog, prefix):
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens
    clock = Clock()
    lim = SharedLimiter(
        down, "tenant-a", {}, (10.0, 2.0), prefix=prefix, sleep=clock.sleep, timeout=1.0
    )
    lim.fallback._clock = clock  # type: ignore[attr-defined]  (the in-process bucket's)
    with caplog.at_level(logging.WARNING, logger="phasegrid.ratelimit"):
        for _ in range(4):
            await lim.acquire(key="wifi_api")  # never raises into the job
        await lim.penalize(1.0, key="wifi_api")
    assert lim.unreachable
    assert clock.now - T0 == pytest.approx(0.2)  # paced in-process: burst 2, then 10/s
    warnings = [r for r in caplog.records if r.name == "phasegrid.ratelimit"]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    await down.aclose()
