"""One clock end to end: a time-scaled simulator states Retry-After in R1 seconds (as
R1 does) and the client turns it, and its own backoff, into ours; nothing waits on
a wall clock here (the simulator's clock is moved by the client's sleeps)."""

from __future__ import annotations

import httpx
import pytest

from workflows.r1 import R1Client, R1Config, RetryPolicy
from workflows.r1.transport import documented_limiter
from workflows.sim import ManualClock, SimConfig, Simulator

from .simharness import SIM_CREDS, ClockSleep

pytestmark = pytest.mark.anyio


def scaled_sim(clock: ManualClock) -> Simulator:
    # 6 calls per R1 minute at 1/10: one call per real second, one at a time
    cfg = SimConfig(rate_limit_per_minute=6, rate_limit_burst=1, time_scale=0.1)
    return Simulator(cfg, clock=clock)


async def test_a_scaled_simulator_says_retry_after_in_r1_seconds():
    clock = ManualClock(100.0)
    sim = scaled_sim(clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        token = "/oauth2/token/sim-tenant"
        form = {"grant_type": "client_credentials", "client_id": "sim-client"}
        ok = await http.post(f"http://sim{token}", data={**form, "client_secret": "sim-secret"})
        assert ok.status_code == 200
        limited = await http.post(f"http://sim{token}", data={**form, "client_secret": "x"})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "10"  # 1 real second is 10 R1 seconds


async def test_the_client_sleeps_a_retry_after_and_its_backoff_in_its_own_seconds():
    clock = ManualClock(100.0)
    sim = scaled_sim(clock)
    sleep = ClockSleep(clock)
    cfg = R1Config(
        **SIM_CREDS, base_url="http://sim", time_scale=0.1,
        retry=RetryPolicy(attempts=4, base=0.5, cap=30.0),
    )  # fmt: skip
    limiter = documented_limiter(cfg, clock=clock.now, sleep=sleep)
    transport = httpx.ASGITransport(app=sim.app)
    async with R1Client(
        cfg, transport=transport, sleep=sleep, clock=clock.now, seed=3, rate_limiter=limiter
    ) as client:
        await client.list_venues()  # the token, then one 429 (told 10 R1 s), then the list
    assert client.stats.rate_limited == 1
    # the retry waits 10 R1 s = 1 s of ours plus up to 0.5 R1 s of jitter; the limiter's
    # pause (1 s of ours too) has passed by then: nothing waits 10 s of ours
    assert 1.0 <= sleep.delays[0] <= 1.05
    assert sum(sleep.delays) <= 1.05
