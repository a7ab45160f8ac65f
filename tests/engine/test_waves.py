"""Waves (issue 14, run controls): a plan option runs the first N units (or named
units), stops at an approval gate showing their results, and continues only on a
second confirmation quoting the same plan digest."""

from __future__ import annotations

import anyio
import pytest

from engine.errors import ConfirmationRequired, DigestMismatch, InputError
from engine.models import JobStatus
from tests.engine.helpers import Recorder, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio
NAMES = ("u1", "u2", "u3", "u4", "u5", "u6", "u7")


async def settled(engine, job_id: str):
    with anyio.fail_after(30):
        while True:
            view = await engine.get(job_id)
            if view.status.terminal or view.status == JobStatus.PAUSED:
                return view
            await anyio.sleep(0.01)


@pytest.mark.parametrize("wave", [{"first": 5}, {"units": ["u3", "u1", "u7", "u2", "u5"]}])
async def test_a_wave_runs_stops_for_approval_then_the_rest(redis, prefix, wave):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan = await engine.plan("chain", units(*NAMES), wave=wave)
        first = set(plan.wave or [])
        assert len(first) == 5
        await engine.confirm(plan.job_id, plan.digest)
        view = await settled(engine, plan.job_id)
        assert view.status == JobStatus.PAUSED and view.wave_gate and view.wave_units == 5
        assert view.units_by_state["succeeded"] == 5 and view.units_by_state["pending"] == 2
        assert {u for u, _ in rec.log} == first  # only the wave ran

        with pytest.raises(ConfirmationRequired):
            await engine.resume(plan.job_id)  # approval is a second confirmation
        with pytest.raises(DigestMismatch):
            await engine.resume(plan.job_id, "0" * 32)
        await engine.resume(plan.job_id, plan.digest)
        view = await settled(engine, plan.job_id)
    assert view.status == JobStatus.COMPLETED and not view.wave_gate
    assert sorted(rec.log) == sorted((u, p) for u in NAMES for p in ("a", "b", "c"))


async def test_the_wave_is_part_of_the_digest_and_is_checked(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()))
    async with engine.running(worker=False):
        plain = await engine.plan("chain", units(*NAMES))
        waved = await engine.plan("chain", units(*NAMES), wave={"first": 2})
        other = await engine.plan("chain", units(*NAMES), wave={"first": 3})
        assert len({plain.digest, waved.digest, other.digest}) == 3
        for bad, named in [
            ({"first": 7}, "wave.first"),
            ({"units": ["nope"]}, "wave.units"),
            ({"first": 2, "units": ["u1"]}, "exactly one"),
            ({"units": list(NAMES)}, "every unit"),
        ]:
            with pytest.raises(InputError) as err:
                await engine.plan("chain", units(*NAMES), wave=bad)
            assert any(named in d for d in err.value.details), err.value.details
