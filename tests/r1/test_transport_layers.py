"""The transport in layers: auth (`R1Auth`) and the call meter (event hooks) are
given to httpx at construction; one meter counts each attempt once, into the
client's stats and the caller's scope; one layer retries each failure."""

from __future__ import annotations

import httpx
import pytest

from workflows.r1 import R1AuthError, R1RateLimited, R1TransientError
from workflows.r1.auth import MSP_HEADER, R1Auth
from workflows.r1.meter import metering

from .helpers import MockR1, Sleeps

pytestmark = pytest.mark.anyio

OK = httpx.Response(200, json={"id": "v1"})


async def test_auth_and_hooks_are_given_at_construction(mock_r1: MockR1, make_client) -> None:
    seen: list[str] = []

    async def extra(request: httpx.Request) -> None:
        seen.append(request.url.path)

    mock_r1.queue("GET", "/venues/v1", OK)
    overrides = {"msp_customer_tenant": "customer-9"}
    async with make_client(config_overrides=overrides, event_hooks={"request": [extra]}) as r1:
        assert isinstance(r1.http.auth, R1Auth)
        assert r1.meter.on_request in r1.http.event_hooks["request"]
        assert r1.meter.on_response in r1.http.event_hooks["response"]
        await r1.get_venue("v1")
    call = mock_r1.calls("GET", "/venues/v1")[0]
    assert call.headers["authorization"].startswith("Bearer ")
    assert call.headers[MSP_HEADER] == "customer-9"
    token = mock_r1.calls("POST", "/oauth2/token/tenant-1")[0]
    assert "authorization" not in token.headers and MSP_HEADER not in token.headers
    assert seen == ["/oauth2/token/tenant-1", "/venues/v1"]


async def test_401_refreshes_once_then_is_the_answer(mock_r1: MockR1, make_client) -> None:
    mock_r1.on("GET", "/venues/v1", lambda request: OK)
    async with make_client() as r1:
        await r1.get_venue("v1")
        mock_r1.revoke_all()  # revoked early: one refresh, one resend
        await r1.get_venue("v1")
        assert r1.auth.fetches == 2

        def always_401(request: httpx.Request) -> httpx.Response:
            return httpx.Response(401, json={"message": "Unauthorized"})

        mock_r1.on("GET", "/venues/v2", always_401)
        with pytest.raises(R1AuthError):
            await r1.get_venue("v2")
        assert r1.auth.fetches == 3
    assert len(mock_r1.calls("GET", "/venues/v2")) == 2  # the try and one resend, no more
    assert r1.stats.statuses[401] == 3  # every attempt metered, the auth flow's included


async def test_one_meter_counts_each_attempt_once(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue("GET", "/venues/v1", httpx.Response(429), httpx.Response(500), OK, OK)
    async with make_client() as r1:
        with metering() as outer:
            await r1.get_venue("v1")  # token + 429 + 500 + 200
            with metering() as inner:  # a nested scope replaces: no double count
                await r1.get_venue("v1")
        stats = r1.stats
    assert outer.calls == 4 and outer.rate_limited == 1
    assert inner.calls == 1 and inner.routes == {"GET /venues/{venueId}": 1}
    assert stats.total_calls == 5 and stats.rate_limited == 1
    assert stats.calls["GET /venues/{venueId}"] == 4


async def test_caller_retried_scope_leaves_ambiguous_failures_to_the_caller(
    mock_r1: MockR1, make_client, sleeps: Sleeps
) -> None:
    """Inside an engine phase (or the poller) an idempotent call is tried at most
    `in_phase_attempts` (3) times after 5xx / read timeouts, then the phase re-runs;
    a create raises after one try. 429s and connect errors (R1 never saw the call)
    are retried here and do not count."""
    mock_r1.queue("GET", "/venues/v1", httpx.Response(503), httpx.Response(429),
                  httpx.ReadTimeout("slow"), httpx.Response(503), OK)  # fmt: skip
    mock_r1.queue("POST", "/identityGroups", httpx.Response(503))
    async with make_client() as r1:
        with metering(caller_retries=True):
            with pytest.raises(R1TransientError) as info:
                await r1.get_venue("v1")
            assert info.value.status == 503
            with pytest.raises(R1TransientError) as info:
                await r1.create_identity_group("unit-1")
            assert info.value.status == 503
            assert (await r1.get_venue("v1")).id == "v1"
        assert r1.stats.retries == 3
    assert len(mock_r1.calls("GET", "/venues/v1")) == 5  # 503, 429, timeout, 503 | OK
    assert len(mock_r1.calls("POST", "/identityGroups")) == 1


async def test_429s_are_bounded_by_the_policy_inside_a_phase_too(
    mock_r1: MockR1, make_client
) -> None:
    mock_r1.queue("GET", "/venues/v1", *[httpx.Response(429) for _ in range(10)])
    async with make_client() as r1:
        with metering(caller_retries=True), pytest.raises(R1RateLimited):
            await r1.get_venue("v1")
    assert len(mock_r1.calls("GET", "/venues/v1")) == 4  # RetryPolicy(attempts=4)
