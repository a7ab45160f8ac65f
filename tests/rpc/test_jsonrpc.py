"""JSON-RPC 2.0 compliance and the operations end to end (synthetic workflows)."""

from __future__ import annotations

import json

import pytest

from tests.rpc.conftest import Rpc, RpcError, units

pytestmark = pytest.mark.anyio

LEAKS = ("Traceback", 'File "', "RuntimeError", "hunter2", "/work/", "site-packages")


def no_leak(text: str) -> None:
    for needle in LEAKS:
        assert needle not in text, needle


async def test_parse_error(rpc: Rpc) -> None:
    resp = await rpc.client.post(
        "/rpc", content=b'{"jsonrpc": "2.0", "method"', headers={"content-type": "application/json"}
    )
    doc = resp.json()
    assert resp.status_code == 200
    assert doc["error"]["code"] == -32700 and doc["id"] is None
    no_leak(resp.text)


@pytest.mark.parametrize(
    "body",
    [
        {"jsonrpc": "1.0", "id": 1, "method": "jobs.list"},
        {"id": 1, "method": "jobs.list"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": {"a": 1}, "method": "jobs.list"},
        {"jsonrpc": "2.0", "id": True, "method": "jobs.list"},
        {"jsonrpc": "2.0", "id": 1, "method": "jobs.list", "params": "x"},
        {"jsonrpc": "2.0", "id": 1, "method": "jobs.list", "extra": 1},
        "jobs.list",
        7,
        [],
    ],
)
async def test_invalid_request(rpc: Rpc, body: object) -> None:
    resp = await rpc.raw(body)
    doc = resp.json()
    assert doc["error"]["code"] == -32600, doc
    if isinstance(body, dict) and isinstance(body.get("id"), int) and body["id"] is not True:
        assert doc["id"] == body["id"]


async def test_unknown_method(rpc: Rpc) -> None:
    doc = (await rpc.raw({"jsonrpc": "2.0", "id": "m", "method": "jobs.explode"})).json()
    assert doc == {
        "jsonrpc": "2.0",
        "error": {
            "code": -32601,
            "message": "Method not found",
            "data": {"kind": "method_not_found", "method": "jobs.explode"},
        },
        "id": "m",
    }


async def test_invalid_params_name_field_paths(rpc: Rpc) -> None:
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.units", {"job_id": "bad id!", "limit": 0, "colour": "red"})
    err = e.value.error
    assert err["code"] == -32602 and err["data"]["kind"] == "invalid_params"
    paths = {x["path"] for x in err["data"]["errors"]}
    assert paths == {"job_id", "limit", "colour"}
    assert "bad id!" not in json.dumps(err)  # rejected values are never echoed


async def test_invalid_units_name_unit_field_paths(rpc: Rpc) -> None:
    bad = [{"name": "ok"}, {"name": "x", "vlan": 99999}, {"vlan": "hunter2"}]
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.plan", {"workflow": "demo", "units": bad})
    err = e.value.error
    assert err["code"] == -32602 and err["data"]["kind"] == "invalid_input"
    paths = {x["path"] for x in err["data"]["errors"]}
    assert {"units[1].vlan", "units[2].name", "units[2].vlan"} <= paths
    no_leak(json.dumps(err))


async def test_missing_and_positional_params(rpc: Rpc) -> None:
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.get")
    assert e.value.code == -32602
    assert e.value.error["data"]["errors"][0]["path"] == "job_id"
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.get", ["nope"])
    assert e.value.code == -32004 and e.value.kind == "not_found"
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.get", ["a", "b"])
    assert e.value.code == -32602


@pytest.mark.parametrize("rid", ["abc", 0, 42, -7, 1.5, None, "", "x" * 64])
async def test_id_echo(rpc: Rpc, rid: object) -> None:
    doc = (await rpc.raw({"jsonrpc": "2.0", "id": rid, "method": "workflows.list"})).json()
    assert doc["id"] == rid and type(doc["id"]) is type(rid)
    assert [w["name"] for w in doc["result"]["workflows"]] == ["demo", "demo_cleanup", "demo_long"]


async def test_notifications_get_no_response(rpc: Rpc) -> None:
    resp = await rpc.raw({"jsonrpc": "2.0", "method": "engine.health"})
    assert resp.status_code == 204 and resp.content == b""
    resp = await rpc.raw({"jsonrpc": "2.0", "method": "no.such.method"})
    assert resp.status_code == 204
    batch = [{"jsonrpc": "2.0", "method": "engine.health"}, {"jsonrpc": "2.0", "method": "x"}]
    resp = await rpc.raw(batch)
    assert resp.status_code == 204 and resp.content == b""


async def test_batch_mixed(rpc: Rpc) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "workflows.list"},
        {"jsonrpc": "2.0", "method": "engine.health"},  # notification: no entry
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        1,
        {"jsonrpc": "2.0", "id": 3, "method": "jobs.get", "params": {"job_id": "missing"}},
        {"jsonrpc": "2.0", "id": 4, "method": "jobs.list", "params": {"limit": -1}},
        {"foo": "bar"},
        {"jsonrpc": "2.0", "id": "h", "method": "engine.health"},
    ]
    doc = (await rpc.raw(batch)).json()
    assert isinstance(doc, list) and len(doc) == 7
    by_id = {d["id"]: d for d in doc if d["id"] is not None}
    assert "workflows" in by_id[1]["result"]
    assert by_id[2]["error"]["code"] == -32601
    assert by_id[3]["error"]["code"] == -32004
    assert by_id[4]["error"]["code"] == -32602
    assert by_id["h"]["result"]["ok"] is True
    invalid = [d for d in doc if d["id"] is None]
    assert [d["error"]["code"] for d in invalid] == [-32600, -32600]


async def test_batch_too_large(asgi) -> None:
    rpc = Rpc(asgi)
    batch = [{"jsonrpc": "2.0", "id": i, "method": "engine.health"} for i in range(51)]
    doc = (await rpc.raw(batch)).json()
    assert doc["error"]["code"] == -32600 and doc["error"]["data"]["kind"] == "batch_too_large"


async def test_internal_errors_are_opaque(rpc: Rpc, engine, monkeypatch) -> None:
    async def boom(*a, **kw):
        raise RuntimeError("password=hunter2 at /work/secret.py")

    monkeypatch.setattr(engine, "list_jobs", boom)
    resp = await rpc.raw({"jsonrpc": "2.0", "id": 9, "method": "jobs.list"})
    doc = resp.json()
    assert doc["error"]["code"] == -32603 and doc["error"]["message"] == "Internal error"
    assert doc["error"]["data"]["kind"] == "internal" and doc["error"]["data"]["ref"]
    no_leak(resp.text)


async def test_plan_confirm_wait_completed(rpc: Rpc) -> None:
    plan = await rpc.call("jobs.plan", {"workflow": "demo", "units": units("u1", "u2", "u3")})
    assert plan["headline"] == "Plan: 9 to create, 0 to reuse, 0 conflicts"
    assert plan["units"] is None and plan["conflicts"] == []
    job = plan["job_id"]
    assert (await rpc.call("jobs.get", {"job_id": job}))["status"] == "AWAITING_CONFIRMATION"

    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.confirm", {"job_id": job, "digest": "0" * 32})
    assert (e.value.code, e.value.kind) == (-32010, "digest_mismatch")

    view = await rpc.call("jobs.confirm", {"job_id": job, "digest": plan["digest"]})
    assert view["status"] in ("QUEUED", "RUNNING", "COMPLETED")
    view = await rpc.call("jobs.wait", {"job_id": job, "timeout": 30})
    assert view["status"] == "COMPLETED" and view["units_by_state"]["succeeded"] == 3

    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.confirm", {"job_id": job, "digest": plan["digest"]})
    assert (e.value.code, e.value.kind) == (-32009, "wrong_state")

    page = await rpc.call("jobs.units", {"job_id": job, "limit": 2})
    assert page["total"] == 3 and [u["unit"] for u in page["units"]] == ["u1", "u2"]
    page = await rpc.call("jobs.units", {"job_id": job, "search": "u3"})
    assert [u["state"] for u in page["units"]] == ["succeeded"]
    detail = await rpc.call("jobs.unit", {"job_id": job, "unit": "u2"})
    assert detail["values"]["network_id"] == "network-u2"

    first = await rpc.call("jobs.events", {"job_id": job, "limit": 3})
    assert [e["event"]["type"] for e in first["events"]][:1] == ["job_planned"]
    rest = await rpc.call("jobs.events", {"job_id": job, "after": first["cursor"], "limit": 1000})
    types = [e["event"]["type"] for e in first["events"] + rest["events"]]
    assert types[-1] == "job_finished" and len(set(types)) > 3
    tail = await rpc.call("jobs.events", {"job_id": job, "after": rest["cursor"]})
    assert tail == {"events": [], "cursor": rest["cursor"]}

    listed = await rpc.call("jobs.list", {"status": "COMPLETED"})
    assert job in [j["id"] for j in listed["jobs"]]
    described = await rpc.call("workflows.describe", {"workflow": "demo"})
    assert described["levels"] == [["group"], ["pool"], ["network"]]
    assert described["unit_schema"]["properties"]["vlan"]["maximum"] == 4094


async def test_conflicts_refuse_confirmation(rpc: Rpc) -> None:
    plan = await rpc.call(
        "jobs.plan",
        {"workflow": "demo", "units": [{"name": "a"}, {"name": "b", "conflict": ["pool"]}]},
    )
    assert plan["conflicts"] == [
        {"unit": "b", "phase": "pool", "detail": "exists with other settings"}
    ]
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.confirm", {"job_id": plan["job_id"], "digest": plan["digest"]})
    assert (e.value.code, e.value.kind) == (-32012, "conflicts_present")
    view = await rpc.call("jobs.discard", {"job_id": plan["job_id"]})
    assert view["status"] == "DISCARDED"


async def test_retry_and_destructive_cleanup(rpc: Rpc) -> None:
    plan = await rpc.call(
        "jobs.plan", {"workflow": "demo", "units": [{"name": "a"}, {"name": "b", "fail": ["pool"]}]}
    )
    job = plan["job_id"]
    await rpc.call("jobs.confirm", {"job_id": job, "digest": plan["digest"]})
    view = await rpc.call("jobs.wait", {"job_id": job, "timeout": 30})
    assert view["status"] == "PARTIAL"
    failed = await rpc.call("jobs.units", {"job_id": job, "state": "failed"})
    assert [u["unit"] for u in failed["units"]] == ["b"]
    view = await rpc.call("jobs.retry", {"job_id": job, "units": ["b"]})
    assert view["status"] in ("QUEUED", "RUNNING", "PARTIAL")
    view = await rpc.call("jobs.wait", {"job_id": job, "timeout": 30})
    assert view["status"] == "PARTIAL"  # still refused: permanent error

    cleanup = await rpc.call("jobs.cleanup", {"job_id": job})
    assert cleanup["summary"]["destructive"] and cleanup["summary"]["confirm_text"] == "Sim Venue"
    assert "DESTRUCTIVE" in cleanup["next_step"]
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.confirm", {"job_id": cleanup["job_id"], "digest": cleanup["digest"]})
    assert (e.value.code, e.value.kind) == (-32013, "confirmation_required")
    await rpc.call(
        "jobs.confirm",
        {"job_id": cleanup["job_id"], "digest": cleanup["digest"], "confirm_text": "Sim Venue"},
    )
    view = await rpc.call("jobs.wait", {"job_id": cleanup["job_id"], "timeout": 30})
    assert view["status"] == "COMPLETED"


async def test_cancel_and_health(rpc: Rpc) -> None:
    plan = await rpc.call("jobs.plan", {"workflow": "demo", "units": units("a")})
    view = await rpc.call("jobs.cancel", {"job_id": plan["job_id"], "mode": "hard"})
    assert view["status"] == "CANCELLED"
    with pytest.raises(RpcError) as e:
        await rpc.call("jobs.cancel", {"job_id": plan["job_id"], "mode": "sideways"})
    assert e.value.code == -32602
    health = await rpc.call("engine.health")
    assert health["ok"] and "demo" in health["workflows"]
