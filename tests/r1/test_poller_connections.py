"""The activity poller's queries have connections of their own: over real HTTP, with
every connection of the client's pool held by writes R1 is slow to answer, a poll
still goes out and comes back at once instead of queueing behind them."""

from __future__ import annotations

import contextlib

import anyio
import pytest

from engine.limits import CALL_PRIORITY, POLL_PRIORITY
from tests.fixtures_sim import serve_sim
from tests.r1.simharness import SIM_CREDS
from workflows.r1 import R1Client, R1Config, R1Error
from workflows.sim import FaultConfig, FaultRule, SimConfig, Simulator

pytestmark = pytest.mark.anyio


async def test_a_poll_does_not_wait_for_a_connection_behind_writes() -> None:
    sim = Simulator(SimConfig(profile="instant", seed=7, faults=FaultConfig(
        hang_seconds=6.0, rules=[FaultRule(action="hang", route="POST /identityGroups")],
    )))  # fmt: skip
    with serve_sim(sim) as url:
        config = R1Config(base_url=url, max_connections=2, max_keepalive_connections=2,
                          **SIM_CREDS)  # fmt: skip
        async with R1Client(config, seed=1) as client:
            await client.auth.get()  # not in the race below
            writes_done = anyio.Event()
            polled: list[bool] = []

            async def write(name: str) -> None:
                with contextlib.suppress(R1Error):  # the hang ends in a 504
                    await client.create_identity_group(name)

            async def poll() -> None:
                CALL_PRIORITY.set(POLL_PRIORITY)
                with anyio.fail_after(5):
                    while sim.stats()["requests"].get("POST /identityGroups", 0) < 2:
                        await anyio.sleep(0.01)  # until both connections are held
                    assert await client.activities.query(["none-such"]) == {}
                polled.append(writes_done.is_set())

            async with anyio.create_task_group() as tg:
                async with anyio.create_task_group() as writes:
                    for n in range(3):
                        writes.start_soon(write, f"idg-{n}")
                    tg.start_soon(poll)
                    while not polled:
                        await anyio.sleep(0.01)
                    writes.cancel_scope.cancel()
                writes_done.set()
    assert polled == [False]  # the poll came back while the writes still held the pool
