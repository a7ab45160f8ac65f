"""`phasegrid sim` as a server: it listens before it prints its URL, its connections
send small responses at once (TCP_NODELAY), and its latency and tenant flags."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.commands.sim import tcp_socket
from app.runtime import RuntimeSettings, open_runtime
from engine import EngineConfig
from tests.sim.helpers import TOKEN_FORM
from workflows.sim import ManualClock, SimConfig, Simulator


def start(*flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sim", "--port", "0", "--profile", "fast", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()[3]


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGCONT)
    proc.kill()
    proc.wait(10)


def test_a_client_that_read_the_url_is_never_refused() -> None:
    proc, url = start("--tenant-id", "t-7")
    try:
        proc.send_signal(signal.SIGSTOP)  # frozen right after its banner: still listening
        port = int(url.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        proc.send_signal(signal.SIGCONT)
        with httpx.Client(base_url=url, timeout=10) as client:  # no retry loop needed
            assert client.get("/_sim/info").json()["tenantId"] == "t-7"
            assert client.post("/oauth2/token/t-7", data=TOKEN_FORM).status_code == 200
            assert client.post("/oauth2/token/sim-tenant", data=TOKEN_FORM).status_code == 401
    finally:
        stop(proc)


@pytest.mark.anyio
async def test_its_connections_have_tcp_nodelay() -> None:
    """Without TCP_NODELAY each response waited for the client's delayed ACK (about
    40 ms a call): asyncio sets it only on a socket made as IPPROTO_TCP."""
    sock = tcp_socket("127.0.0.1")
    sock.bind(("127.0.0.1", 0))
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            conn = transport.get_extra_info("socket")
            accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        port = sock.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 10) != 0
        writer.close()
    finally:
        server.close()


@pytest.mark.parametrize("flag", ["--call-latency", "--activity-latency"])
def test_latency_flags_refuse_a_bad_span(flag: str) -> None:
    for bad in ("x", "2,1", "-1"):
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "sim", "--port", "0", flag, bad],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 64, (bad, proc.stderr)
        assert flag in proc.stderr or "call_latency" in proc.stderr or "activity" in proc.stderr


def test_latency_overrides_replace_the_profiles_and_keep_the_time_scale() -> None:
    cfg = SimConfig(profile="demo", call_latency=(0.3, 0.3), activity_duration=(2.0, 2.0))
    assert cfg.latency.call_latency == (0.3, 0.3)
    assert cfg.latency.activity_duration == (2.0, 2.0)
    assert cfg.latency.per_item_seconds == SimConfig(profile="demo").latency.per_item_seconds
    sim = Simulator(
        SimConfig(profile="instant", activity_duration=(2.0, 2.0), time_scale=0.25),
        clock=ManualClock(),
    )
    rid = _create_group(sim)
    activity = sim.activities.by_id[rid]
    assert activity.done_at - activity.created_at == pytest.approx(0.5)


def _create_group(sim: Simulator) -> str:
    from starlette.testclient import TestClient

    with TestClient(sim.app) as client:
        tok = client.post("/oauth2/token/sim-tenant", data=TOKEN_FORM).json()["access_token"]
        r = client.post(
            "/identityGroups", json={"name": "g"}, headers={"Authorization": f"Bearer {tok}"}
        )
        assert r.status_code == 202, r.text
        return r.json()["requestId"]


@pytest.mark.anyio
async def test_a_sim_url_runtime_signs_in_to_the_simulators_tenant(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    proc, url = start("--tenant-id", "t-7")
    try:
        settings = RuntimeSettings(
            redis_url=redis_url, data_dir=tmp_path, backend="sim-url", sim_url=url,
            worker=False, engine=EngineConfig(prefix=prefix),
        )  # fmt: skip
        async with open_runtime(settings) as rt:
            assert [v.name for v in await rt.r1.list_venues()] == ["Sim Venue"]
            assert rt.r1.limiter.tenant == "sim:t-7"  # its own limiter in Redis
    finally:
        stop(proc)
