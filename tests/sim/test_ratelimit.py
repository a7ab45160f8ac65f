"""The per-tenant token bucket: 429 once empty, Retry-After on or off, refill."""

from __future__ import annotations

import pytest

from tests.fixtures_sim import sim_client_for
from tests.sim.helpers import token
from workflows.sim import ManualClock, SimConfig, Simulator
from workflows.sim.ratelimit import RateLimiter

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("retry_after", [True, False])
async def test_429_when_the_bucket_is_empty(retry_after: bool) -> None:
    clock = ManualClock()
    sim = Simulator(
        SimConfig(rate_limit_per_minute=60, retry_after_header=retry_after), clock=clock
    )
    client = sim_client_for(sim)
    headers = await token(client)  # the token call counts against the bucket too
    codes = [
        (await client.get(f"/venues/{sim.venue_id}", headers=headers)).status_code
        for _ in range(60)
    ]
    assert codes.count(200) == 59 and codes[-1] == 429
    r = await client.get(f"/venues/{sim.venue_id}", headers=headers)
    assert r.status_code == 429
    assert r.json()["message"]
    if retry_after:
        assert r.headers["Retry-After"] == "1"
    else:
        assert "Retry-After" not in r.headers
    clock.advance(1.0)  # one call per second refills
    assert (await client.get(f"/venues/{sim.venue_id}", headers=headers)).status_code == 200
    assert (await client.get(f"/venues/{sim.venue_id}", headers=headers)).status_code == 429
    stats = sim.stats()
    assert stats["rate_limited"] == 3
    assert stats["responses_by_status"]["429"] == 3


async def test_burst_of_3000_in_a_minute() -> None:
    """R1's 2,000/min: a burst of 3,000 gets 2,000 through, the rest 429."""
    clock = ManualClock()
    limiter = RateLimiter(2000)
    allowed = 0
    for i in range(3000):
        clock.set(i * 0.001)  # all within 3 s
        allowed += limiter.acquire("t", clock.now()) is None
    assert 2000 <= allowed <= 2000 + 3 * 2000 / 60 + 1
    wait = limiter.acquire("t", clock.now())
    assert wait is not None and 0 < wait <= 0.03 + 1e-9
    assert RateLimiter.retry_after_header(wait) == "1"


def test_time_scale_speeds_refill() -> None:
    limiter = RateLimiter(60, time_scale=1 / 60, burst=1)
    assert limiter.acquire("t", 0.0) is None
    wait = limiter.acquire("t", 0.0)
    assert wait == pytest.approx(1 / 60)
    assert limiter.acquire("t", 1 / 60) is None


def test_tenants_have_separate_buckets() -> None:
    limiter = RateLimiter(1)
    assert limiter.acquire("a", 0.0) is None
    assert limiter.acquire("a", 0.0) is not None
    assert limiter.acquire("b", 0.0) is None


async def test_default_buckets_over_http_are_per_service_family() -> None:
    """R1's documented bucket (Wi-Fi and Venue: 200 calls, 100 returned per second),
    one per tenant and service: call 201 to the Venue service within one instant
    gets 429 while the Wi-Fi service still answers; a second later 100 more pass."""
    clock = ManualClock()
    sim = Simulator(SimConfig(), clock=clock)
    client = sim_client_for(sim)
    headers = await token(client)  # the token endpoint has its own bucket
    venue = f"/venues/{sim.venue_id}"
    statuses = [(await client.get(venue, headers=headers)).status_code for _ in range(201)]
    assert statuses.count(200) == 200 and statuses[-1] == 429
    wifi = await client.get("/wifiNetworks/nope", headers=headers)
    assert wifi.status_code == 404  # answered (not 429): another service's bucket
    clock.advance(1.0)
    statuses = [(await client.get(venue, headers=headers)).status_code for _ in range(101)]
    assert statuses.count(200) == 100 and statuses[-1] == 429
    assert sim.stats()["rate_limited"] == 2


def test_family_limits_are_configurable() -> None:
    sim = Simulator(SimConfig(rate_limit_families={"dpsk_service": (1.0, 2)}))
    limiter = sim.limiter
    route = "POST /dpskServices/query"
    assert [limiter.acquire("t", 0.0, route) for _ in range(2)] == [None, None]
    assert limiter.acquire("t", 0.0, route) == pytest.approx(1.0)
    assert limiter.acquire("t", 0.0, "POST /wifiNetworks") is None
