"""Fixtures for the R1 client tests: anyio on asyncio, and a scriptable mock R1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from workflows.r1 import R1Client
from workflows.sim import ManualClock, Simulator

from .helpers import MockR1, Sleeps, make_config
from .simharness import SimTarget, serve


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mock_r1() -> MockR1:
    return MockR1()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(mock_r1: MockR1, sleeps: Sleeps) -> Callable[..., R1Client]:
    def factory(**kwargs: Any) -> R1Client:
        config = kwargs.pop("config", None) or make_config(**kwargs.pop("config_overrides", {}))
        kwargs.setdefault("sleep", sleeps)
        kwargs.setdefault("seed", 7)
        return R1Client(config, transport=httpx.MockTransport(mock_r1), **kwargs)

    return factory


@pytest.fixture(params=["asgi", "http"])
def target(request: pytest.FixtureRequest, sim: Simulator, sim_clock: ManualClock):
    """The default simulator (instant profile), in-process or served on loopback."""
    if request.param == "asgi":
        yield SimTarget(sim, "http://sim", "asgi", sim_clock)
        return
    live = Simulator(sim.config)  # real clock for a real server
    with serve(live) as url:
        yield SimTarget(live, url, "http")


@pytest.fixture
def asgi_target(sim: Simulator, sim_clock: ManualClock) -> SimTarget:
    return SimTarget(sim, "http://sim", "asgi", sim_clock)
