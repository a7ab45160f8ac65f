"""The R1 transport with the tenant limiter shared through Redis (real Redis,
in-process simulator on a manual clock that the limiter shares): two clients
(two workers) together keep to one tenant's rate, and a 429 reaches Redis
(the transport awaits the shared limiter's penalty)."""

from __future__ import annotations

import anyio
import pytest

from engine.tenant_limit import read_limits
from workflows.r1 import R1Client, RetryPolicy
from workflows.r1.transport import shared_limiter
from workflows.sim import ManualClock, SimConfig, Simulator

from .simharness import ClockSleep, SimTarget

pytestmark = pytest.mark.anyio

T0 = 1000.0


def worker(target: SimTarget, clock: ManualClock, redis, prefix: str) -> R1Client:
    client = target.client(retry=RetryPolicy(attempts=8, base=0.01, cap=0.05))
    limiter = shared_limiter(client.config, redis, "sim:sim-tenant", prefix=prefix)
    limiter._clock, limiter._sleep = clock.now, client.sleep  # the simulator's time
    client.limiter = limiter
    return client


async def fire(clients: list[R1Client], venue_id: str, calls: int) -> None:
    limit = anyio.CapacityLimiter(50)

    async def one(r1: R1Client) -> None:
        async with limit:
            assert (await r1.get_venue(venue_id)).id == venue_id

    async with anyio.create_task_group() as tg:
        for i in range(calls):
            tg.start_soon(one, clients[i % len(clients)])


async def test_two_clients_share_the_tenants_rate_and_draw_no_429s(redis, prefix) -> None:
    clock = ManualClock(T0)
    sim = Simulator(SimConfig(profile="instant", seed=7), clock=clock)  # 100/s, burst 200
    target = SimTarget(sim, "http://sim", "asgi", clock)
    sleep = ClockSleep(clock)
    a, b = (worker(target, clock, redis, prefix) for _ in range(2))
    a.sleep = b.sleep = sleep
    async with a, b:
        await fire([a, b], sim.venue_id, 600)
    assert sim.stats()["rate_limited"] == a.stats.rate_limited + b.stats.rate_limited == 0
    # one rate for both: (600 - the 100 of the burst it uses) / 100 per second; with a
    # limiter each they would have taken half that and drawn 429s
    assert clock.now() - T0 >= (600 - 100) / 100 - 0.01
    states = {s.family: s for s in await read_limits(redis, prefix, now=clock.now())}
    venue = states["venue_service_api"]
    assert venue.calls == 600 and venue.waits > 0 and venue.rate_limited == 0


async def test_a_429_halves_the_shared_rate_for_every_worker(redis, prefix) -> None:
    clock = ManualClock(T0)
    sim = Simulator(  # the tenant allows less than the documented 100/s the client assumes
        SimConfig(profile="instant", seed=7, rate_limit_per_second=40, rate_limit_burst=40),
        clock=clock,
    )
    target = SimTarget(sim, "http://sim", "asgi", clock)
    a, b = (worker(target, clock, redis, prefix) for _ in range(2))
    a.sleep = b.sleep = ClockSleep(clock)
    async with a, b:
        await fire([a, b], sim.venue_id, 300)
        failures = a.stats.failures + b.stats.failures
    limited = sim.stats()["rate_limited"]
    assert failures == 0 and limited > 0
    [venue] = [s for s in await read_limits(redis, prefix, now=clock.now()) if s.family != "auth"]
    assert venue.rate_limited == limited  # every 429 of both clients reached Redis
    assert venue.halvings >= 1 and venue.documented_rate == 100.0
    assert venue.halvings < limited  # a volley of 429s halves once
