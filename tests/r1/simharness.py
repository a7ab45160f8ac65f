"""Running the R1 client against the simulator, in-process (ASGI, manual clock)
or over real HTTP (uvicorn on loopback), with the engine's ActivityTracker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from engine.activities import ActivityTracker
from tests.fixtures_sim import serve_sim
from workflows.r1 import Accepted, R1Client, R1Config, R1Error, RetryPolicy
from workflows.sim import ManualClock, Simulator

SIM_CREDS = {"tenant_id": "sim-tenant", "client_id": "sim-client", "client_secret": "sim-secret"}


serve = serve_sim  # uvicorn in a thread on loopback (IPPROTO_TCP: TCP_NODELAY)


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
        config = R1Config(base_url=self.base_url, retry=retry, **creds, **kwargs.pop("config", {}))
        if self.mode == "asgi":
            kwargs.setdefault("transport", httpx.ASGITransport(app=self.sim.app))
            if self.clock is not None:
                kwargs.setdefault("sleep", ClockSleep(self.clock))
                kwargs.setdefault("clock", self.clock.now)  # the rate limiter's and tokens' time
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
    tracker = ActivityTracker(client.activities, min_interval=0.001, max_interval=0.01, timeout=10)
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(tracker.run)
        yield Harness(client, tracker)
        tg.cancel_scope.cancel()
