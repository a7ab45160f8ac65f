"""Malformed units handed to `Engine.plan` (as JSON-RPC would): always a clean
InputError naming the field, never a traceback, never an R1 write."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from tests.workflows.checks import writes
from tests.workflows.rig import rig, sim_for

pytestmark = pytest.mark.anyio

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10_000), st.text(max_size=40),
                    st.floats(allow_nan=False))  # fmt: skip
unit = st.fixed_dictionaries(
    {},
    optional={
        "unit_number": scalars,
        "ap_serials": st.one_of(scalars, st.lists(scalars, max_size=3)),
        "ssid_name": scalars,
        "ssid_password": scalars,
        "security_type": st.one_of(scalars, st.sampled_from(["WPA2", "WEP"])),
        "default_vlan": st.one_of(scalars, st.integers(-5, 5000)),
        "extra": scalars,
    },
)


async def test_malformed_units_are_input_errors_without_r1_writes(redis, prefix):
    sim = sim_for([])
    async with rig(redis, prefix, sim) as r:
        seen = {"errors": 0}

        @settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(st.lists(unit, min_size=1, max_size=4))
        def check(units):
            async def attempt():
                try:
                    await r.engine.plan("per_unit_dpsk", units, {})
                except InputError as exc:
                    seen["errors"] += 1
                    assert exc.details and all("units[" in d for d in exc.details)

            anyio.from_thread.run(attempt)

        await anyio.to_thread.run_sync(check)
        assert seen["errors"] >= 50
        assert writes(r.stats()) == {}
