"""The shared tenant rate limiter on a real Redis Cluster: its script touches one
key (one slot), the Redis clock is read inside the script, and the status read
uses single-key commands only (the fixture fails on any cross-slot error)."""

from __future__ import annotations

import pytest

from engine.tenant_limit import SharedLimiter, read_limits

pytestmark = pytest.mark.anyio


async def test_the_shared_limiter_runs_on_a_cluster(cluster, prefix) -> None:
    workers = [
        SharedLimiter(cluster, tenant, {}, (10.0, 4.0), prefix=prefix, recovery=1e6)
        for tenant in ("r1:acme", "r1:acme", "r1:other")
    ]
    for family in ("wifi_api", "dpsk_service", "venue_service_api"):
        for lim in workers:
            slot = await lim.reserve(family)
            assert slot is not None and slot.wait >= 0  # reached Redis: no fallback
    await workers[0].penalize(60.0, key="wifi_api")
    await workers[1].acquire(key="dpsk_service")
    assert not any(lim.unreachable for lim in workers)
    states = {(s.tenant, s.family): s for s in await read_limits(cluster, prefix)}
    assert len(states) == 6
    assert states["r1:acme", "dpsk_service"].calls == 3  # both workers of one tenant
    assert states["r1:other", "dpsk_service"].calls == 1
    wifi = states["r1:acme", "wifi_api"]
    assert wifi.rate_limited == 1 and wifi.rate == pytest.approx(5.0, abs=0.01)
    assert 0 < wifi.paused_for <= 60.0
