"""R1 limits, 429s, injected faults and activity quirks, against the simulator."""

from __future__ import annotations

import pytest

from engine.errors import PermanentError, TransientError
from engine.limits import NoRateLimit
from workflows.r1 import (
    R1ActivityFailed,
    R1ActivityFailedTransient,
    R1RateLimited,
    R1TransientError,
    RetryPolicy,
    Timeouts,
)
from workflows.sim import FaultConfig, FaultRule, ManualClock, SimConfig, Simulator

from .simharness import SimTarget, tracked
from .test_retry import RecordingLimiter

pytestmark = pytest.mark.anyio


def custom(**config) -> SimTarget:
    clock = ManualClock(1000.0)
    return SimTarget(
        Simulator(SimConfig(profile="instant", seed=7, **config), clock=clock),
        "http://sim",
        "asgi",
        clock,
    )


async def test_ssid_limit_per_ap_group_is_permanent() -> None:
    target = custom()
    venue_id = target.sim.venue_id
    async with tracked(target.client()) as h:
        r1 = h.client
        await h.ok(await r1.create_ap_group(venue_id, "ssid-budget"))
        group = await r1.find_ap_group(venue_id, "ssid-budget")
        for i in range(15):
            net = await h.ok(
                await r1.create_wifi_network(f"n{i:02d}", f"s{i}", passphrase="password123")
            )
            await h.ok(await r1.activate_on_venue(venue_id, net.id, all_ap_groups=False))
            await h.ok(await r1.activate_on_ap_group(venue_id, net.id, group.id))
        extra = await h.ok(await r1.create_wifi_network("n15", "s15", passphrase="password123"))
        await h.ok(await r1.activate_on_venue(venue_id, extra.id, all_ap_groups=False))
        err = await h.fails(await r1.activate_on_ap_group(venue_id, extra.id, group.id))
    assert isinstance(err, R1ActivityFailed) and isinstance(err, PermanentError)
    assert "maximum of 15 SSIDs" in str(err)


async def test_networks_per_pool_limit_is_permanent() -> None:
    target = custom(max_networks_per_pool=3)  # R1's 64, scaled down to keep it quick
    async with tracked(target.client()) as h:
        r1 = h.client
        ident = await h.ok(await r1.create_identity_group("ig"))
        pool = await h.ok(await r1.create_dpsk_pool(ident.id, "pool"))
        for i in range(3):
            net = await h.ok(await r1.create_wifi_network(f"d{i}", f"d{i}", network_type="dpsk"))
            await h.ok(await r1.bind_dpsk_pool(net.id, pool.id))
        net = await h.ok(await r1.create_wifi_network("d3", "d3", network_type="dpsk"))
        err = await h.fails(await r1.bind_dpsk_pool(net.id, pool.id))
    assert isinstance(err, R1ActivityFailed)
    assert "serves at most 3 networks" in str(err) and err.details[0].startswith("networkIds:")


@pytest.mark.parametrize("header", [True, False])
async def test_429_backoff_then_success(header: bool) -> None:
    target = custom(rate_limit_per_minute=60, rate_limit_burst=3, retry_after_header=header)
    limiter = RecordingLimiter()
    retry = RetryPolicy(attempts=12, base=1.0, cap=8.0)
    async with target.client(rate_limiter=limiter, retry=retry) as r1:
        for _ in range(10):
            await r1.get_venue(target.sim.venue_id)
        stats = r1.stats
        delays = r1.sleep.delays
    assert stats.rate_limited > 0 and stats.failures == 0
    assert target.sim.stats()["rate_limited"] == stats.rate_limited
    assert len(limiter.penalties) == stats.rate_limited
    if header:
        assert all(p is not None and p >= 1 for p in limiter.penalties)
        assert all(d >= 1.0 for d in delays)  # Retry-After honoured
    else:
        assert limiter.penalties == [None] * stats.rate_limited


async def test_429_bounded_attempts() -> None:
    target = custom(rate_limit_per_minute=1, rate_limit_burst=2)  # the token call + one
    retry = RetryPolicy(attempts=3, base=0.0, max_retry_after=0.0)
    async with target.client(retry=retry, rate_limiter=NoRateLimit()) as r1:
        await r1.get_venue(target.sim.venue_id)
        with pytest.raises(R1RateLimited) as info:  # zero backoff: the bucket never refills
            await r1.get_venue(target.sim.venue_id)
        assert r1.stats.calls["GET /venues/{venueId}"] == 4 and r1.stats.rate_limited == 3
    assert info.value.retry_after is not None and info.value.retry_after >= 1


@pytest.mark.parametrize("action", ["http_500", "http_502", "http_503", "drop"])
async def test_transient_http_faults_are_retried(target: SimTarget, action: str) -> None:
    target.sim.faults = FaultConfig(rules=[FaultRule(action=action, route="GET /venues/", times=2)])
    async with target.client() as r1:
        venue = await r1.get_venue(target.sim.venue_id)
        assert venue.id == target.sim.venue_id
        assert r1.stats.retries == 2 and r1.stats.calls["GET /venues/{venueId}"] == 3


async def test_5xx_retries_are_bounded(target: SimTarget) -> None:
    target.sim.faults = FaultConfig(rules=[FaultRule(action="http_503", route="POST /venues/q")])
    async with target.client(retry=RetryPolicy(attempts=4, base=0.001, cap=0.001)) as r1:
        with pytest.raises(R1TransientError) as info:
            await r1.list_venues()
        assert info.value.status == 503
        assert r1.stats.calls["POST /venues/query"] == 4 and r1.stats.failures == 1


async def test_hung_call_times_out_and_is_retried(target: SimTarget) -> None:
    target.sim.faults = FaultConfig(
        hang_seconds=1.0, rules=[FaultRule(action="hang", route="GET /venues/", times=1)]
    )
    client = target.client(config={"timeouts": Timeouts(read=0.2)}, attempt_timeout=0.2)
    async with client as r1:
        venue = await r1.get_venue(target.sim.venue_id)
        assert venue.id and r1.stats.network_errors == 1


async def test_transient_activity_fail_is_transient(target: SimTarget) -> None:
    target.sim.faults = FaultConfig(
        rules=[FaultRule(action="fail_transient", route="POST /identityGroups", times=1)]
    )
    async with tracked(target.client()) as h:
        err = await h.fails(await h.client.create_identity_group("flaky"))
        assert isinstance(err, R1ActivityFailedTransient) and isinstance(err, TransientError)
        assert "please retry" in str(err)
        await h.ok(await h.client.create_identity_group("flaky"))  # the retry succeeds


async def test_activity_404_means_not_yet() -> None:
    target = custom(activity_404_polls=2)
    async with tracked(target.client()) as h:
        accepted = await h.client.create_identity_group("late")
        assert await h.client.get_activity(accepted.request_id) is None
        await h.ok(accepted)  # the tracker's bulk polls see it once R1 knows it
        accepted = await h.client.create_identity_group("later")
        result = await h.client.wait(accepted, poll_interval=0.01)  # single-GET polling
        assert result is not None and result.status == "SUCCESS"


async def test_lost_create_response_is_transient_without_duplicates() -> None:
    """R1 applied the create but the 202 never arrived: the client must not
    re-send blindly (that would FAIL "Name must be unique"); the write is found."""
    target = custom()
    target.sim.faults = FaultConfig(lost_response_rate=1.0)
    async with tracked(target.client()) as h:
        with pytest.raises(R1TransientError) as info:
            await h.client.create_identity_group("lost-one")
        assert info.value.status == 502
        target.sim.faults = FaultConfig()
        found = await h.client.list_identity_groups(filters={"name": "lost-one"})
    assert [g.name for g in found] == ["lost-one"]
    stats = target.sim.stats()
    assert stats["duplicate_create_attempts"] == 0
    assert stats["requests"]["POST /identityGroups"] == 1
