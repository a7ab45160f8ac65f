"""Passphrases: batch create, CSV bulk import, Spring paging, bulk delete."""

from __future__ import annotations

import httpx
import pytest

from tests.sim.helpers import write_fails, write_ok
from workflows.sim import Simulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pool(sim_client: httpx.AsyncClient, sim_headers: dict) -> str:
    gid = (await write_ok(sim_client, sim_headers, "POST", "/identityGroups",
                          json={"name": "unit-1"}))["id"]
    return (await write_ok(sim_client, sim_headers, "POST",
                           f"/identityGroups/{gid}/dpskServices",
                           json={"name": "unit-1", "passphraseFormat": "NUMBERS_ONLY",
                                 "passphraseLength": 10}))["id"]


def _csv(rows: list[str], header: str = "username,passphrase,vlanId,expirationDate,"
         "numberOfDevices") -> dict:
    data = "\n".join([header, *rows]) + "\n"
    return {"file": ("passphrases.csv", data.encode(), "text/csv")}


async def test_create_returns_no_id_and_generates(sim_client: httpx.AsyncClient,
                                                  sim_headers: dict, pool: str) -> None:
    body = await write_ok(sim_client, sim_headers, "POST", f"/dpskServices/{pool}/passphrases",
                          json={"username": "guest", "numberOfPassphrases": 3, "vlanId": 30})
    assert set(body) == {"requestId"}
    r = await sim_client.get(f"/dpskServices/{pool}/passphrases?page=0&size=2",
                             headers=sim_headers)
    page = r.json()
    assert page["totalElements"] == 3 and page["totalPages"] == 2 and len(page["content"]) == 2
    assert all(len(p["passphrase"]) == 10 and p["passphrase"].isdigit() for p in page["content"])
    assert page["content"][0]["vlanId"] == 30


async def test_csv_import(sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict,
                          pool: str) -> None:
    files = _csv(["alice,alicepass1,100,2026-06-15,2", "bob,,200,,", "carol,carolpass1,,,"])
    body = await write_ok(sim_client, sim_headers, "POST",
                          f"/dpskServices/{pool}/passphrases/csvFiles", files=files)
    assert set(body) == {"requestId"}
    r = await sim_client.post(f"/dpskServices/{pool}/passphrases/query?page=0&size=10",
                              headers=sim_headers, json={"filters": {"username": ["alice"]}})
    (alice,) = r.json()["content"]
    assert alice["passphrase"] == "alicepass1" and alice["vlanId"] == 100
    assert alice["expirationDate"] == "2026-06-15" and alice["numberOfDevices"] == 2
    assert sim.stats()["resources"]["passphrases"] == 3
    assert sim.stats()["requests"]["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 1


async def test_csv_header_variants_and_errors(sim_client: httpx.AsyncClient, sim_headers: dict,
                                              pool: str) -> None:
    url = f"/dpskServices/{pool}/passphrases/csvFiles"
    await write_ok(sim_client, sim_headers, "POST", url,
                   files=_csv(["dave,davepass12,7"], header="User Name,PASSPHRASE,vlan_id"))
    msgs = await write_fails(sim_client, sim_headers, "POST", url,
                             files=_csv(["eve,short,1", "frank,frankpass1,5000"]))
    assert msgs[0].startswith("row 2:") and msgs[1].startswith("row 3:")
    # all or nothing: a duplicate passphrase fails the file and creates nothing
    msgs = await write_fails(sim_client, sim_headers, "POST", url,
                             files=_csv(["gina,ginapass12,", "dave2,davepass12,"]))
    assert msgs == ["Passphrase already exists in this DPSK service"]
    r = await sim_client.get(f"/dpskServices/{pool}/passphrases", headers=sim_headers)
    assert r.json()["totalElements"] == 1
    bad = await sim_client.post(url, headers=sim_headers, files=_csv([], header="foo,bar"))
    assert bad.status_code == 400
    missing = await sim_client.post(url, headers=sim_headers, data={"x": "y"})
    assert missing.status_code == 400


@pytest.mark.parametrize("wrap", [False, True])
async def test_delete_accepts_list_and_wrapper(sim_client: httpx.AsyncClient, sim_headers: dict,
                                               pool: str, wrap: bool) -> None:
    await write_ok(sim_client, sim_headers, "POST", f"/dpskServices/{pool}/passphrases",
                   json={"username": "u", "numberOfPassphrases": 4})
    content = (await sim_client.get(f"/dpskServices/{pool}/passphrases",
                                    headers=sim_headers)).json()["content"]
    ids = [p["id"] for p in content[:3]]
    body = {"passphraseIds": ids} if wrap else ids
    await write_ok(sim_client, sim_headers, "DELETE", f"/dpskServices/{pool}/passphrases",
                   json=body)
    left = (await sim_client.get(f"/dpskServices/{pool}/passphrases",
                                 headers=sim_headers)).json()
    assert left["totalElements"] == 1
    assert "not found" in (await write_fails(sim_client, sim_headers, "DELETE",
                                             f"/dpskServices/{pool}/passphrases",
                                             json=ids))[0]


async def test_ten_thousand_passphrases_is_fast(sim: Simulator, sim_client: httpx.AsyncClient,
                                                sim_headers: dict, pool: str) -> None:
    rows = [f"user{i},pass-{i:08d},{1 + i % 4000}" for i in range(10_000)]
    await write_ok(sim_client, sim_headers, "POST", f"/dpskServices/{pool}/passphrases/csvFiles",
                   files=_csv(rows, header="username,passphrase,vlanId"))
    seen = 0
    for page in range(20):
        r = await sim_client.post(f"/dpskServices/{pool}/passphrases/query?page={page}&size=500",
                                  headers=sim_headers, json={})
        seen += len(r.json()["content"])
    r = await sim_client.post(f"/dpskServices/{pool}/passphrases/query", headers=sim_headers,
                              json={"filters": {"passphrase": ["pass-00009999"]}})
    assert r.json()["content"][0]["username"] == "user9999"
    assert seen == 10_000 and sim.stats()["resources"]["passphrases"] == 10_000
