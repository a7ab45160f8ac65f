"""A secret sent in an invalid request comes back in no error, on `/rpc` and
`/mcp` alike (the MCP SDK's own argument and message validation included),
and reaches no log line even at DEBUG (the HTTP stack logs response bodies)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client

from engine import Engine, EngineConfig
from rpc.http import serve_in_background
from workflows.catalog import build_registry

pytestmark = pytest.mark.anyio

SECRET = "Zq7-Sekrit-Passw0rd-91"
GOOD_UNIT = {"unit_number": "101", "ssid_name": "Home"}
BAD_ARGS: list[dict[str, Any]] = [
    {"workflow": "per_unit_dpsk", "units": SECRET},
    {"workflow": "per_unit_dpsk", "units": [SECRET]},
    {"workflow": "per_unit_dpsk", "units": [GOOD_UNIT], "title": SECRET * 10},
    {"workflow": "per_unit_dpsk", "units": [{**GOOD_UNIT, "ssid_password": SECRET, "vlan": 1}]},
    {"workflow": "per_unit_dpsk", "units": [{**GOOD_UNIT, "ssid_password": [SECRET]}]},
    {"workflow": "per_unit_dpsk", "units": [GOOD_UNIT],
     "options": {"naming": {"ap_group": SECRET + "{"}}},  # a validator quoting the value
    {"workflow": "per_unit_psk", "input_text": "unit_number,ap_identifiers,ssid_name,"
     f"ssid_password,security_type,default_vlan\n101,921000000001,Home,{SECRET},WPA2,5000\n"},
    {"workflow": "per_unit_psk", "input_text": f"{SECRET},Home\n101,Home\n"},  # no header
    {"workflow": "cloudpath_dpsk",
     "input_text": json.dumps({"dpsks": [{"name": "a", "passphrase": SECRET + "\x01"}]})},
]  # fmt: skip


class Capture(logging.Handler):
    """The server's records (the test's own MCP client logs what it sends)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("mcp.client"):
            self.lines.append(f"{record.name} {self.format(record)}")


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """Every record of every logger at DEBUG, those that do not propagate too."""
    cap = Capture()
    manager = logging.root.manager
    names = ["", "uvicorn", "uvicorn.error", "sse_starlette", "mcp", "httpx", "phasegrid"]
    names += [n for n, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)]
    saved = []
    for name in dict.fromkeys(names):
        lg = logging.getLogger(name)
        saved.append((lg, lg.level))
        lg.setLevel(logging.DEBUG)
        if name == "" or not lg.propagate:
            lg.addHandler(cap)
    try:
        yield cap
    finally:
        for lg, level in saved:
            lg.setLevel(level)
            lg.removeHandler(cap)


@pytest.fixture
async def real_engine(redis, prefix: str):
    eng = Engine(redis, build_registry(), EngineConfig(prefix=prefix), seed=1)
    async with eng.running(worker=False):
        yield eng


async def test_a_secret_in_an_invalid_request_is_echoed_nowhere(real_engine, debug_logs) -> None:
    seen: list[str] = []
    async with serve_in_background(real_engine, "127.0.0.1", 0, log_level="debug") as srv:
        async with httpx.AsyncClient(base_url=srv.url) as http:
            for i, args in enumerate(BAD_ARGS):
                body = {"jsonrpc": "2.0", "id": i, "method": "jobs.plan", "params": args}
                resp = await http.post("/rpc", json=body)
                assert resp.json()["error"]["code"] == -32602, resp.text
                seen.append(resp.text)
            # not even a JSON-RPC message: the SDK's transport answers 400 itself
            hdr = {"accept": "application/json, text/event-stream"}
            for bad in ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": SECRET},
                        {"jsonrpc": SECRET, "id": 2, "method": "initialize"}):  # fmt: skip
                resp = await http.post("/mcp", json=bad, headers=hdr)
                assert resp.status_code == 400 and resp.json()["error"]["code"] == -32602
                seen.append(resp.text)
        for mode in ("legacy", "auto"):
            async with Client(srv.url + "/mcp", mode=mode) as c:  # type: ignore[arg-type]
                for args in BAD_ARGS:
                    res = await c.call_tool("plan_job", args)
                    assert res.is_error, (mode, args)
                    seen.append(res.model_dump_json())
    assert any("units" in s for s in seen) and any("naming.ap_group" in s for s in seen)
    assert not [s for s in seen if SECRET in s], "a response echoes the secret"
    assert len(debug_logs.lines) > 20  # DEBUG logging was on
    leaked = [line for line in debug_logs.lines if SECRET in line]
    assert not leaked, leaked[:3]
