"""The contract guard catches what R1 would reject or silently ignore.

Each case goes through a real simulator's ASGI app (the same guard every test
talking to a simulator goes through); `record` mode keeps the violations on
the simulator instead of failing the test that provokes them on purpose.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from workflows.r1.contract import build
from workflows.r1.contract.operations import CORRECTIONS, EXTRA_OPERATIONS
from workflows.r1.contract.validate import Contract
from workflows.sim import SimConfig, Simulator
from workflows.sim.contract_guard import ContractGuard

pytestmark = pytest.mark.anyio


async def _call(sim: Simulator, method: str, path: str, **kwargs) -> httpx.Response:
    token, _ = sim.auth.issue(sim.clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        return await client.request(method, path, headers=headers, **kwargs)


def _sim(mode: str = "record") -> Simulator:
    return Simulator(SimConfig(contract=mode, seed=3))


async def test_a_bad_enum_is_caught_with_operation_field_and_rule() -> None:
    sim = _sim()
    body = {
        "name": "unit-101",
        "type": "psk",
        "wlan": {"ssid": "unit-101", "wlanSecurity": "WPA3Personal", "passphrase": "x" * 12},
    }
    await _call(sim, "POST", "/wifiNetworks", json=body)
    found = [v for v in sim.contract_violations if v.operation == "POST /wifiNetworks"]
    assert found, sim.contract_violations
    assert any("WPA3Personal" in v.message or v.field == "/wlan/wlanSecurity" for v in found)


async def test_an_undefined_filter_is_caught() -> None:
    sim = _sim()
    await _call(
        sim,
        "POST",
        "/dpskServices/query",
        json={"filters": {"name": ["unit-101"]}, "page": 1, "pageSize": 10},
    )
    found = [
        v
        for v in sim.contract_violations
        if v.operation == "POST /dpskServices/query" and v.where.startswith("request")
    ]
    assert [(v.where, v.field, v.rule) for v in found] == [
        ("request.body", "/filters", "unevaluatedProperties")
    ]
    assert "'name'" in found[0].message


async def test_an_undefined_query_parameter_and_an_unknown_operation_are_caught() -> None:
    sim = _sim()
    await _call(sim, "POST", "/dpskServices/query?size=10", json={"page": 1})
    await _call(sim, "POST", "/wifiNetworks/bogus", json={})
    rules = {(v.operation, v.rule, v.field) for v in sim.contract_violations}
    assert ("POST /dpskServices/query", "parameter", "size") in rules
    assert ("POST /wifiNetworks/bogus", "operation", "") in rules


async def test_an_invented_response_field_is_caught() -> None:
    sim = _sim()

    async def invents(scope, receive, send) -> None:  # an R1 route answering a made-up field
        data = json.dumps({"requestId": "r-1", "passphraseCount": 3}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    guard = ContractGuard(invents, sim)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guard), base_url="http://sim"
    ) as client:
        answer = await client.post("/venues/v-1/apGroups", json={"name": "ag-1"})
    assert answer.status_code == 202  # record mode lets it through, counted
    found = [v for v in sim.contract_violations if v.where.startswith("response")]
    assert found and found[0].rule == "unevaluatedProperties"
    assert "passphraseCount" in found[0].message
    assert sim.stats_counters.snapshot()["contract_violations"] == len(sim.contract_violations)


async def test_enforce_mode_refuses_with_an_r1_shaped_400_naming_the_rule() -> None:
    sim = _sim("enforce")
    log = os.environ.pop("PHASEGRID_SIM_CONTRACT_LOG", None)  # provoked on purpose
    try:
        answer = await _call(sim, "POST", "/dpskServices/query", json={"filters": {"name": ["x"]}})
    finally:
        if log is not None:
            os.environ["PHASEGRID_SIM_CONTRACT_LOG"] = log
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["code"] == "CONTRACT-400"
    assert (
        "POST /dpskServices/query request.body /filters: unevaluatedProperties"
        in (error["message"])
    )


def test_read_only_fields_in_requests_are_violations() -> None:
    contract = Contract.load()
    found = contract.check_request(
        "POST", "/venues/v1/apGroups", {}, "application/json", {"name": "ag-1", "id": "x"}
    )
    assert [(v.field, v.rule) for v in found] == [("/id", "readOnly")]


def test_the_committed_contract_is_current() -> None:
    """Rebuilt from RUCKUS's documents when they are reachable (the developers' tree
    and CI: `$PHASEGRID_R1_OPENAPI` or an ancestor's `shared/r1-openapi`) and compared;
    a user's checkout without them still checks the file is untouched build output
    whose sources are recorded."""
    committed = build.CONTRACT_FILE.read_text()
    source = build.default_source()
    if source.is_dir():
        assert build.render(build.build(source)) == committed, (
            "r1_contract.json is stale: run `python -m workflows.r1.contract.build`"
        )
    assert build.render(json.loads(committed)) == committed
    data = json.loads(committed)
    assert data["sources"] and all(len(h) == 64 for h in data["sources"].values())
    assert set(EXTRA_OPERATIONS) <= set(data["operations"])
    assert all(extra["source"] for extra in EXTRA_OPERATIONS.values())
    assert all(why for *_, why in CORRECTIONS)
