"""Reusable R1-simulator fixtures (registered for the whole suite by
tests/conftest.py through `pytest_plugins`).

- `sim_config`: `SimConfig(profile="instant", seed=7)`; override it in a test
  module to change the tenant.
- `sim_clock`: the `ManualClock` driving `sim` (advance it; never sleep).
- `sim`: a fresh `Simulator` per test.
- `sim_token` / `sim_headers`: a valid bearer token for `sim` (issued directly).
- `sim_client`: `httpx.AsyncClient` on `sim.app` in-process, base URL
  `http://sim`, no auth header (add `headers=sim_headers`).
- `live_sim`: the same kind of simulator served by uvicorn on 127.0.0.1 (real
  clock, port picked by the OS): `live_sim.url`, `live_sim.sim`.
- `serve_sim(sim)`: context manager serving any simulator, yields its URL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from workflows.sim import ManualClock, SimConfig, Simulator

SIM_BASE_URL = "http://sim"
SIM_CREDENTIALS = {
    "tenant_id": "sim-tenant",
    "client_id": "sim-client",
    "client_secret": "sim-secret",
}


@dataclass
class LiveSim:
    url: str
    sim: Simulator


@contextmanager
def serve_sim(sim: Simulator, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `sim.app` with uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sim.app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("simulator server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def sim_client_for(sim: Simulator, **kwargs: object) -> httpx.AsyncClient:
    """An in-process client for `sim` (no network, no server)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=SIM_BASE_URL, **kwargs
    )  # type: ignore[arg-type]


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(profile="instant", seed=7)


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def sim(sim_config: SimConfig, sim_clock: ManualClock) -> Simulator:
    return Simulator(sim_config, clock=sim_clock)


@pytest.fixture
def sim_token(sim: Simulator) -> str:
    token, _ = sim.auth.issue(sim.now())
    return token


@pytest.fixture
def sim_headers(sim_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim_token}"}


@pytest.fixture
def sim_client(sim: Simulator) -> httpx.AsyncClient:
    return sim_client_for(sim)


@pytest.fixture
def live_sim() -> Iterator[LiveSim]:
    sim = Simulator(SimConfig(profile="instant", seed=7))
    with serve_sim(sim) as url:
        yield LiveSim(url, sim)
