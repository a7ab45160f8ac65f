"""OAuth2 client credentials, token expiry and the MSP header."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.fixtures_sim import sim_client_for
from tests.sim.helpers import TOKEN_FORM, token
from workflows.sim import ManualClock, SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def test_token_then_authorised_call(sim_client: httpx.AsyncClient) -> None:
    r = await sim_client.post("/oauth2/token/sim-tenant", data=TOKEN_FORM)
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await sim_client.post("/venues/query", json={}, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("tenant", "field", "value"),
    [
        ("other-tenant", None, None),
        ("sim-tenant", "client_id", "nope"),
        ("sim-tenant", "client_secret", "wrong"),
    ],
)
async def test_bad_credentials_401(
    sim_client: httpx.AsyncClient, tenant: str, field: str | None, value: str | None
) -> None:
    form = dict(TOKEN_FORM)
    if field:
        form[field] = value  # type: ignore[assignment]
    r = await sim_client.post(f"/oauth2/token/{tenant}", data=form)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert "sim-secret" not in r.text


async def test_credentials_go_in_the_documented_form_not_a_basic_header() -> None:
    """R1's token endpoint takes client_id/client_secret in the form body; a Basic
    header alone is refused (contract guard off: this request breaks it on purpose)."""
    sim = Simulator(SimConfig(contract="off"), clock=ManualClock())
    client = sim_client_for(sim)
    basic = base64.b64encode(b"sim-client:sim-secret").decode()
    r = await client.post(
        "/oauth2/token/sim-tenant",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sim.unknown", "Basic abc"])
async def test_missing_or_unknown_token_401(
    sim_client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    r = await sim_client.post("/identityGroups", json={"name": "x"}, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "Unauthorized"


async def test_token_expires_on_the_sim_clock() -> None:
    clock = ManualClock()
    sim = Simulator(SimConfig(token_ttl=60), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as client:
        headers = await token(client)
        clock.advance(59.9)
        assert (await client.post("/venues/query", json={}, headers=headers)).status_code == 200
        clock.advance(0.1)
        assert (await client.post("/venues/query", json={}, headers=headers)).status_code == 401
        assert sim.stats()["unauthorized"] == 1


async def test_revoke_forces_401(sim_client: httpx.AsyncClient, sim_headers: dict) -> None:
    assert (await sim_client.post("/venues/query", json={}, headers=sim_headers)).status_code == 200
    assert (await sim_client.post("/_sim/tokens/revoke")).status_code == 200
    assert (await sim_client.post("/venues/query", json={}, headers=sim_headers)).status_code == 401


async def test_msp_header_accepted(sim_client: httpx.AsyncClient, sim_headers: dict) -> None:
    headers = {**sim_headers, "x-rks-tenantid": "customer-1"}
    r = await sim_client.post("/venues/query", json={}, headers=headers)
    assert r.status_code == 200 and r.json()["totalCount"] == 1
