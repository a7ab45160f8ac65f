"""Small helpers shared by the simulator tests."""

from __future__ import annotations

from typing import Any

import httpx

TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": "sim-client",
    "client_secret": "sim-secret",
}


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/oauth2/token/sim-tenant", data=TOKEN_FORM)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def activity(client: httpx.AsyncClient, headers: dict[str, str], rid: str) -> dict[str, Any]:
    r = await client.get(f"/activities/{rid}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def write_ok(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    method: str,
    url: str,
    status: int = 202,
    **kwargs: Any,
) -> dict[str, Any]:
    """Send a write, expect 202 (or the documented `status`), and (instant profile) its
    activity to SUCCEED."""
    r = await client.request(method, url, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    act = await activity(client, headers, body["requestId"])
    assert act["status"] == "SUCCESS", act
    return body


async def write_fails(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    method: str,
    url: str,
    status: int = 202,
    **kwargs: Any,
) -> list[str]:
    """Send a write, expect 202 (or `status`) and a FAILed activity; return the innermost
    messages."""
    import json

    r = await client.request(method, url, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    act = await activity(client, headers, r.json()["requestId"])
    assert act["status"] == "FAIL", act
    outer = json.loads(act["error"])
    return [e["message"] for raw in outer["errors"] for e in json.loads(raw)["subErrors"]]
