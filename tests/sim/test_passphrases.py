"""Passphrases: batch create, CSV bulk import, Spring paging, bulk delete."""

from __future__ import annotations

import httpx
import pytest

from tests.sim.helpers import write_fails, write_ok
from workflows.sim import Simulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pool(sim_client: httpx.AsyncClient, sim_headers: dict) -> str:
    gid = (
        await write_ok(sim_client, sim_headers, "POST", "/identityGroups", json={"name": "unit-1"})
    )["id"]
    return (
        await write_ok(
            sim_client,
            sim_headers,
            "POST",
            f"/identityGroups/{gid}/dpskServices",
            json={"name": "unit-1", "passphraseFormat": "NUMBERS_ONLY", "passphraseLength": 10},
        )
    )["id"]


TEMPLATE = "Username,Passphrase,VLAN ID,Expiration Date,Number of devices"


def _csv(rows: list[str], header: str = TEMPLATE) -> dict:
    data = "\n".join([header, *rows]) + "\n"
    return {"file": ("passphrases.csv", data.encode(), "text/csv")}


async def _query(client: httpx.AsyncClient, headers: dict, pool: str, **body: object) -> dict:
    r = await client.post(f"/dpskServices/{pool}/passphrases/query", headers=headers, json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_create_returns_no_id_and_generates(
    sim_client: httpx.AsyncClient, sim_headers: dict, pool: str
) -> None:
    body = await write_ok(
        sim_client,
        sim_headers,
        "POST",
        f"/dpskServices/{pool}/passphrases",
        json={"username": "guest", "numberOfPassphrases": 3, "vlanId": 30},
    )
    assert set(body) == {"requestId"}
    page = await _query(sim_client, sim_headers, pool, page=1, pageSize=2)
    assert page["totalCount"] == 3 and page["totalPages"] == 2 and len(page["data"]) == 2
    assert all(len(p["passphrase"]) == 10 and p["passphrase"].isdigit() for p in page["data"])
    assert page["data"][0]["vlanId"] == 30
    assert len((await _query(sim_client, sim_headers, pool, page=2, pageSize=2))["data"]) == 1


async def test_csv_import(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict, pool: str
) -> None:
    files = _csv(["alice,alicepass1,100,2026-06-15,2", "bob,,200,,", "carol,carolpass1,,,"])
    r = await sim_client.post(
        f"/dpskServices/{pool}/passphrases/csvFiles", headers=sim_headers, files=files
    )
    assert r.status_code == 200 and set(r.json()) == {"requestId"}  # the document: 200
    page = await _query(sim_client, sim_headers, pool, filters={"username": ["alice"]})
    (alice,) = page["data"]
    assert alice["passphrase"] == "alicepass1" and alice["vlanId"] == 100
    assert alice["expirationDate"] == "2026-06-15T00:00:00Z" and alice["numberOfDevices"] == 2
    assert sim.stats()["resources"]["passphrases"] == 3
    assert sim.stats()["requests"]["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 1


async def test_csv_template_headers_and_errors(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict, pool: str
) -> None:
    sim.config.contract = "off"  # one upload is not multipart, on purpose: the simulator's 400
    url = f"/dpskServices/{pool}/passphrases/csvFiles"
    await write_ok(
        sim_client,
        sim_headers,
        "POST",
        url,
        status=200,
        files=_csv(["dave,davepass12,7"], header="Username,Passphrase,VLAN ID"),
    )
    # header names must match R1's template exactly: our old camelCase ones do not
    for header in ("username,passphrase,vlanId", "User Name,PASSPHRASE,vlan_id"):
        bad = await sim_client.post(
            url, headers=sim_headers, files=_csv(["x,xpass1234,"], header=header)
        )
        assert bad.status_code == 400 and "template" in bad.text
    msgs = await write_fails(
        sim_client,
        sim_headers,
        "POST",
        url,
        status=200,
        files=_csv(["eve,short,1", "frank,frankpass1,5000"]),
    )
    assert msgs[0].startswith("row 2:") and msgs[1].startswith("row 3:")
    # all or nothing: a duplicate passphrase fails the file and creates nothing
    msgs = await write_fails(
        sim_client,
        sim_headers,
        "POST",
        url,
        status=200,
        files=_csv(["gina,ginapass12,", "dave2,davepass12,"]),
    )
    assert msgs == ["Passphrase already exists in this DPSK service"]
    assert (await _query(sim_client, sim_headers, pool))["totalCount"] == 1
    missing = await sim_client.post(url, headers=sim_headers, data={"x": "y"})
    assert missing.status_code == 400


async def test_delete_takes_a_json_array(
    sim_client: httpx.AsyncClient, sim_headers: dict, pool: str
) -> None:
    await write_ok(
        sim_client,
        sim_headers,
        "POST",
        f"/dpskServices/{pool}/passphrases",
        json={"username": "u", "numberOfPassphrases": 4},
    )
    ids = [p["id"] for p in (await _query(sim_client, sim_headers, pool))["data"][:3]]
    await write_ok(sim_client, sim_headers, "DELETE", f"/dpskServices/{pool}/passphrases", json=ids)
    assert (await _query(sim_client, sim_headers, pool))["totalCount"] == 1
    assert (
        "not found"
        in (
            await write_fails(
                sim_client, sim_headers, "DELETE", f"/dpskServices/{pool}/passphrases", json=ids
            )
        )[0]
    )


async def test_ten_thousand_passphrases_is_fast(
    sim: Simulator, sim_client: httpx.AsyncClient, sim_headers: dict, pool: str
) -> None:
    rows = [f"user{i},pass-{i:08d},{1 + i % 4000}" for i in range(10_000)]
    await write_ok(
        sim_client,
        sim_headers,
        "POST",
        f"/dpskServices/{pool}/passphrases/csvFiles",
        status=200,
        files=_csv(rows, header="Username,Passphrase,VLAN ID"),
    )
    seen = 0
    for page in range(1, 21):
        seen += len((await _query(sim_client, sim_headers, pool, page=page, pageSize=500))["data"])
    found = await _query(sim_client, sim_headers, pool, filters={"passphrase": ["pass-00009999"]})
    assert found["data"][0]["username"] == "user9999"
    assert seen == 10_000 and sim.stats()["resources"]["passphrases"] == 10_000
    assert sim.stats()["resources"]["identities"] == 10_000  # one per passphrase
