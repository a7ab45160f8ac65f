"""Token fetch, refresh before expiry, 401 -> refresh once -> retry, MSP header."""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio
import httpx
import pytest

from workflows.r1 import R1AuthError
from workflows.r1.auth import refresh_time

from .helpers import SECRET, MockR1

pytestmark = pytest.mark.anyio


def venue_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "v1", "name": "Venue"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_token_form_and_bearer(mock_r1: MockR1, make_client) -> None:
    mock_r1.on("GET", "/venues/v1", venue_ok)
    async with make_client() as r1, anyio.create_task_group() as tg:  # burst: one token
        for _ in range(20):
            tg.start_soon(r1.get_venue, "v1")
    token_calls = mock_r1.calls("POST", "/oauth2/token/tenant-1")
    assert len(token_calls) == 1
    form = parse_qs(token_calls[0].content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": [SECRET],
    }
    assert token_calls[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in token_calls[0].headers
    api = mock_r1.calls("GET", "/venues/v1")
    assert all(r.headers["authorization"] == "Bearer tok-abcdef-0" for r in api)
    assert all("x-rks-tenantid" not in r.headers for r in api)


async def test_msp_header(mock_r1: MockR1, make_client) -> None:
    mock_r1.on("GET", "/venues/v1", venue_ok)
    async with make_client(config_overrides={"msp_customer_tenant": "cust-7"}) as r1:
        await r1.get_venue("v1")
    assert mock_r1.calls("GET", "/venues/v1")[0].headers["x-rks-tenantid"] == "cust-7"


def test_refresh_time_margin_and_half_life() -> None:
    assert refresh_time(0, 7200, 300) == 6900
    assert refresh_time(0, 60, 300) == 30


async def test_refresh_before_expiry(mock_r1: MockR1, make_client) -> None:
    clock = FakeClock()
    mock_r1.on("GET", "/venues/v1", venue_ok)
    mock_r1.ttl = 3600
    async with make_client(clock=clock) as r1:
        await r1.get_venue("v1")
        clock.now += 3299  # still > 5 min left
        await r1.get_venue("v1")
        assert len(mock_r1.tokens_issued) == 1
        clock.now += 2  # now inside the 5-minute margin
        await r1.get_venue("v1")
        assert len(mock_r1.tokens_issued) == 2
        assert r1.auth.fetches == 2
    assert mock_r1.calls("GET", "/venues/v1")[-1].headers["authorization"].endswith("-1")


async def test_short_ttl_refreshes_at_half_life(mock_r1: MockR1, make_client) -> None:
    clock = FakeClock()
    mock_r1.ttl = 60
    mock_r1.on("GET", "/venues/v1", venue_ok)
    async with make_client(clock=clock) as r1:
        await r1.get_venue("v1")
        clock.now += 29
        await r1.get_venue("v1")
        clock.now += 2
        await r1.get_venue("v1")
    assert len(mock_r1.tokens_issued) == 2


async def test_401_refreshes_once_and_retries(mock_r1: MockR1, make_client) -> None:
    mock_r1.on("GET", "/venues/v1", venue_ok)
    async with make_client() as r1:
        await r1.get_venue("v1")
        mock_r1.revoke_all()  # server-side expiry the client could not foresee
        venue = await r1.get_venue("v1")
    assert venue.id == "v1"
    assert len(mock_r1.tokens_issued) == 2
    statuses = [r.url.path for r in mock_r1.requests]
    assert statuses.count("/venues/v1") == 3  # ok, 401, ok


async def test_401_twice_is_auth_error(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue(
        "GET",
        "/venues/v1",
        httpx.Response(401, json={"message": "Unauthorized"}),
        httpx.Response(401, json={"message": "Unauthorized"}),
    )
    async with make_client() as r1:
        with pytest.raises(R1AuthError) as info:
            await r1.get_venue("v1")
    assert info.value.status == 401
    assert len(mock_r1.calls("GET", "/venues/v1")) == 2


async def test_bad_credentials(mock_r1: MockR1, make_client) -> None:
    async with make_client(config_overrides={"client_secret": "wrong-secret-xyz"}) as r1:
        with pytest.raises(R1AuthError) as info:
            await r1.get_venue("v1")
    assert "wrong-secret-xyz" not in str(info.value) + repr(info.value)
    assert len(mock_r1.requests) == 1  # permanent: no retries
