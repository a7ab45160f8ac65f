"""Running the R1 client against the simulator, in-process (ASGI, manual clock)
or over real HTTP (uvicorn on loopback), with the engine's ActivityTracker."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import uvicorn

from engine.activities import ActivityTracker
from workflows.r1 import Accepted, R1Client, R1Config, R1Error, RetryPolicy
from workflows.sim import ManualClock, Simulator

SIM_CREDS = {"tenant_id": "sim-tenant", "client_id": "sim-client", "client_secret": "sim-secret"}


@contextmanager
def serve(sim: Simulator) -> Iterator[str]:
    """Serve `sim.app` with uvicorn on 127.0.0.1 (OS-picked port) in a thread.

    The socket is created with IPPROTO_TCP so asyncio sets TCP_NODELAY on the
    accepted connections; with proto 0 it does not, and every request then
    pays a ~40 ms delayed-ACK stall (seen with tests.fixtures_sim.serve_sim).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sim.app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("simulator server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class SimTarget:
    sim: Simulator
    base_url: str
    mode: str  # "asgi" | "http"
    clock: ManualClock | None = None

    def client(self, **kwargs: Any) -> R1Client:
        """An R1Client on this simulator; in-process its sleeps advance the sim clock."""
        creds = {**SIM_CREDS, **kwargs.pop("creds", {})}
        retry = kwargs.pop("retry", RetryPolicy(attempts=6, base=0.01, cap=0.05))
        config = R1Config(base_url=self.base_url, retry=retry, **creds,
                          **kwargs.pop("config", {}))
        if self.mode == "asgi":
            kwargs.setdefault("transport", httpx.ASGITransport(app=self.sim.app))
            if self.clock is not None:
                kwargs.setdefault("sleep", ClockSleep(self.clock))
        kwargs.setdefault("seed", 1)
        return R1Client(config, **kwargs)


class ClockSleep:
    """Backoff sleeps that move the simulator's manual clock instead of waiting.

    A sleeper moves the clock to its own wake-up time (never back), so tasks
    sleeping side by side overlap in simulated time instead of adding up.
    """

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        wake = self.clock.now() + max(0.0, seconds)
        await anyio.sleep(0)
        if wake > self.clock.now():
            self.clock.set(wake)


class Harness:
    """A client plus a running ActivityTracker: `ok()` waits for SUCCESS,
    `fails()` returns the typed error of a FAILed activity."""

    def __init__(self, client: R1Client, tracker: ActivityTracker) -> None:
        self.client = client
        self.tracker = tracker

    async def ok(self, accepted: Accepted) -> Accepted:
        assert accepted.request_id, accepted
        result = await self.client.wait(accepted, self.tracker, timeout=10)
        assert result is not None and result.status == "SUCCESS"
        return accepted

    async def fails(self, accepted: Accepted) -> R1Error:
        try:
            await self.client.wait(accepted, self.tracker, timeout=10)
        except R1Error as exc:
            return exc
        raise AssertionError(f"activity {accepted.request_id} did not fail")


@asynccontextmanager
async def tracked(client: R1Client) -> AsyncIterator[Harness]:
    tracker = ActivityTracker(client.activities, min_interval=0.001, max_interval=0.01,
                              timeout=10)
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        yield Harness(client, tracker)
        tg.cancel_scope.cancel()
