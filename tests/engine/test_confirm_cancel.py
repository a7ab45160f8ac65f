"""Plan/confirm safety, discard, cancel (graceful, hard, during planning), retry."""

from __future__ import annotations

import anyio
import pytest

from engine import JobStatus, PhaseSpec, WorkflowSpec
from engine.errors import ConflictsPresent, DigestMismatch, InputError, PlanExpired, WrongState
from engine.keys import GlobalKeys
from engine.models import CellState
from engine.targets import target_key
from tests.engine.helpers import Opts, Recorder, Step, Unit, chain_spec, make_engine, units

pytestmark = pytest.mark.anyio


async def test_plan_writes_nothing_until_confirmed(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan = await engine.plan("chain", units("u1", "u2"))
        assert plan.summary.create == 6 and plan.summary.conflicts == 0
        assert plan.summary.headline() == "Plan: 6 to create, 0 to reuse, 0 conflicts"
        view = await engine.get(plan.job_id)
        assert view.status == JobStatus.AWAITING_CONFIRMATION
        assert view.plan_digest == plan.digest
        assert rec.log == [] and rec.attempts == {}


async def test_confirm_rejects_wrong_digest_expired_plan_and_wrong_state(redis, prefix):
    now = [1000.0]
    engine = make_engine(redis, prefix, chain_spec(Recorder()), plan_ttl=60, clock=lambda: now[0])
    plan = await engine.plan("chain", units("u1"))
    with pytest.raises(DigestMismatch):
        await engine.confirm(plan.job_id, "0" * 32)
    now[0] += 61
    with pytest.raises(PlanExpired):
        await engine.confirm(plan.job_id, plan.digest)
    assert (await engine.get(plan.job_id)).status == JobStatus.EXPIRED
    with pytest.raises(WrongState):
        await engine.confirm(plan.job_id, plan.digest)


async def test_two_concurrent_confirms_start_one_run(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    plan = await engine.plan("chain", units("u1", "u2"))
    outcomes: list[str] = []

    async def confirm() -> None:
        try:
            await engine.confirm(plan.job_id, plan.digest)
            outcomes.append("ok")
        except WrongState:
            outcomes.append("wrong_state")

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(confirm)
    assert sorted(outcomes) == ["ok"] + ["wrong_state"] * 4
    assert await redis.llen(GlobalKeys(prefix).queue(target_key(""))) == 1
    async with engine.running():
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.COMPLETED
    assert len(rec.log) == 6  # one run, not five


async def test_conflicts_block_confirmation_and_discard_ends_the_plan(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()))
    plan = await engine.plan("chain", [{"name": "u", "fail": ["conflict:b"]}])
    assert plan.summary.conflicts == 1
    with pytest.raises(ConflictsPresent):
        await engine.confirm(plan.job_id, plan.digest)
    view = await engine.discard(plan.job_id)
    assert view.status == JobStatus.DISCARDED
    with pytest.raises(WrongState):
        await engine.discard(plan.job_id)


async def test_bad_units_and_options_are_rejected_with_field_paths(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()))
    with pytest.raises(InputError) as err:
        await engine.plan("chain", [{"name": "a"}, {"nom": "b"}, {"name": "a"}])
    assert "units[1].name: Field required" in err.value.details
    with pytest.raises(InputError) as err:
        await engine.plan("chain", units("a", "a"))
    assert "units[1]: duplicate unit 'a' (first at units[0])" in err.value.details
    with pytest.raises(InputError) as err:
        await engine.plan("chain", units("a"), {"tag": 5})
    assert err.value.details[0].startswith("options.tag:")


async def test_cancel_during_planning_wins(redis, prefix):
    started, release = anyio.Event(), anyio.Event()

    async def inventory(ctx):
        started.set()
        await release.wait()
        return {}

    spec = WorkflowSpec(
        name="slowplan", title="s", unit_model=Unit, options_model=Opts, inventory=inventory,
        phases=(PhaseSpec(id="a", title="A", executor=Step(Recorder(), "a")),),
    )  # fmt: skip
    engine = make_engine(redis, prefix, spec)
    errors: list[Exception] = []

    async def do_plan() -> None:
        try:
            await engine.plan("slowplan", units("u"), job_id="j1")
        except WrongState as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(do_plan)
        await started.wait()
        view = await engine.cancel("j1")
        assert view.status == JobStatus.CANCELLED
        release.set()
    assert errors and "cancelled while planning" in str(errors[0])
    assert (await engine.get("j1")).status == JobStatus.CANCELLED


async def test_graceful_cancel_lets_in_flight_work_land(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, gated=True), max_in_flight=2)
    async with engine.running():
        plan = await engine.plan("chain", units(*[f"u{i}" for i in range(6)]))
        await engine.confirm(plan.job_id, plan.digest)
        await rec.started[("u0", "a")].wait()
        await rec.started[("u1", "a")].wait()
        await engine.cancel(plan.job_id)
        rec.gate("u0", "a").set()
        rec.gate("u1", "a").set()
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.CANCELLED
    assert set(rec.log) == {("u0", "a"), ("u1", "a")}  # in-flight landed, nothing new started
    page = await engine.units(plan.job_id)
    states = {u.unit: u.phases["a"].state for u in page.units}
    assert states["u0"] == states["u1"] == CellState.SUCCEEDED
    assert {states[f"u{i}"] for i in range(2, 6)} == {CellState.CANCELLED}


async def test_hard_cancel_marks_in_flight_outcome_unknown(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, gated=True), max_in_flight=2)
    async with engine.running():
        plan = await engine.plan("chain", units("u0", "u1", "u2"))
        await engine.confirm(plan.job_id, plan.digest)
        await rec.started[("u0", "a")].wait()
        await rec.started[("u1", "a")].wait()
        await engine.cancel(plan.job_id, hard=True)
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.CANCELLED
    assert rec.log == []
    detail = await engine.unit(plan.job_id, "u0")
    assert detail.phases["a"].state == CellState.CANCELLED
    assert detail.phases["a"].outcome_unknown is True
    assert (await engine.unit(plan.job_id, "u2")).phases["a"].outcome_unknown is False


async def test_cancel_from_another_engine_reaches_the_worker(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec, gated=True), max_in_flight=1)
    remote = make_engine(redis, prefix, chain_spec(Recorder()))  # no worker: a face elsewhere
    async with engine.running():
        plan = await engine.plan("chain", units("u0", "u1"))
        await engine.confirm(plan.job_id, plan.digest)
        await rec.started[("u0", "a")].wait()
        await remote.cancel(plan.job_id, hard=True)
        view = await remote.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.CANCELLED


async def test_retry_reruns_failed_and_blocked_units(redis, prefix):
    rec = Recorder()
    engine = make_engine(redis, prefix, chain_spec(rec))
    async with engine.running():
        plan = await engine.plan("chain", [{"name": "bad", "flaky": {"b": 99}}, {"name": "ok"}])
        await engine.confirm(plan.job_id, plan.digest)
        view = await engine.wait(plan.job_id, timeout=10)
        assert view.status == JobStatus.PARTIAL
        attempts_before = rec.attempts[("bad", "b")]
        rec.attempts[("bad", "b")] = 1000  # the fault is gone: flaky no longer triggers
        with pytest.raises(WrongState):
            await engine.confirm(plan.job_id, plan.digest)
        await engine.retry(plan.job_id, units=["bad"])
        view = await engine.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.COMPLETED
    assert attempts_before == 5
    assert rec.log.count(("ok", "a")) == 1  # succeeded cells are not re-run
    assert rec.log.count(("bad", "a")) == 1
    assert ("bad", "c") in rec.log
    detail = await engine.unit(plan.job_id, "bad")
    assert detail.phases["b"].attempts == 6


async def test_retry_of_a_completed_job_is_refused(redis, prefix):
    engine = make_engine(redis, prefix, chain_spec(Recorder()))
    async with engine.running():
        plan = await engine.plan("chain", units("u"))
        await engine.confirm(plan.job_id, plan.digest)
        await engine.wait(plan.job_id, timeout=10)
        with pytest.raises(WrongState):
            await engine.retry(plan.job_id)


async def test_secret_inputs_are_purged_as_units_succeed(redis, prefix):
    from pydantic import SecretStr

    class SecretUnit(Unit):
        psk: SecretStr

    rec = Recorder()
    base = chain_spec(rec)
    spec = WorkflowSpec(name="sec", title="sec", unit_model=SecretUnit, phases=base.phases)
    engine = make_engine(redis, prefix, spec)
    async with engine.running():
        plan = await engine.plan(
            "sec",
            [
                {"name": "ok", "psk": "hunter2-ok"},
                {"name": "bad", "psk": "hunter2-bad", "flaky": {"b": 9}},
            ],
        )
        assert "hunter2" not in plan.model_dump_json()
        await engine.confirm(plan.job_id, plan.digest)
        assert (await engine.wait(plan.job_id)).status == JobStatus.PARTIAL
        detail = await engine.unit(plan.job_id, "bad")
        assert detail.inputs["psk"] == "••••"
        assert (await engine.unit(plan.job_id, "bad", reveal=True)).inputs["psk"] == "hunter2-bad"
        kept = await redis.hgetall(f"{prefix}:{{job:{plan.job_id}}}:inputs")
        assert list(kept) == ["1"] and "hunter2" not in str(kept)  # kept, sealed, for the retry
        rec.attempts[("bad", "b")] = 100
        await engine.retry(plan.job_id)
        assert (await engine.wait(plan.job_id)).status == JobStatus.COMPLETED
    assert not await redis.exists(f"{prefix}:{{job:{plan.job_id}}}:inputs")


async def test_a_failed_plan_keeps_no_inputs(redis, prefix):
    async def inventory(ctx):
        raise RuntimeError("tenant unreachable")

    spec = WorkflowSpec(
        name="badplan", title="b", unit_model=Unit, options_model=Opts, inventory=inventory,
        phases=(PhaseSpec(id="a", title="A", executor=Step(Recorder(), "a")),),
    )  # fmt: skip
    engine = make_engine(redis, prefix, spec)
    with pytest.raises(RuntimeError):
        await engine.plan("badplan", units("u"), job_id="jf")
    view = await engine.get("jf")
    assert view.status == JobStatus.FAILED and view.error == "planning failed"
    assert not await redis.exists(f"{prefix}:{{job:jf}}:inputs")
    assert await redis.ttl(f"{prefix}:{{job:jf}}:meta") > 0
