"""Secrets at rest: sealed in Redis, opened only to run, purged when no longer
needed, unconfirmed plans expire, a wrong key is a clear error."""

from __future__ import annotations

import os
import stat
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, SecretStr
from redis.asyncio import Redis

from engine import Engine, EngineConfig, JobStatus, PhaseSpec, Registry, WorkflowSpec
from engine.aof import AofCompactor
from engine.context import PhaseContext, PlanContext
from engine.errors import PlanExpired
from engine.models import PhasePlan
from engine.redis_server import EmbeddedRedis
from engine.secretbox import KEY_ENV, SecretBox, SecretKeyError, encode_key
from engine.store import PLAN_KEY_MARGIN
from tests.engine.helpers import instant_sleep
from tests.secret_scan import dump_keys

pytestmark = pytest.mark.anyio

PSKS = ["psk-alpha-7731", "psk-bravo-9920", "psk-charlie-1187"]
NOTES = ["note-delta-5512", "note-echo-3381", "note-foxtrot-6670"]


class SecretUnit(BaseModel):
    name: str
    psk: SecretStr
    note: str = ""  # declared secret by the spec, without the type

    @property
    def key(self) -> str:
        return self.name


class Seen:
    """An executor that records the secrets it was given (they must arrive in clear)."""

    def __init__(self, gate: anyio.Event | None = None) -> None:
        self.psks: list[str] = []
        self.notes: list[str] = []
        self.gate = gate
        self.planning = anyio.Event()

    async def plan(self, ctx: PlanContext) -> PhasePlan:
        self.planning.set()
        if self.gate is not None:
            await self.gate.wait()
        return PhasePlan(action="create", resource="thing", calls=1)

    async def run(self, ctx: PhaseContext) -> None:
        self.psks.append(ctx.unit.psk.get_secret_value())
        self.notes.append(ctx.unit.note)


def secret_engine(redis: Redis, prefix: str, seen: Seen, **kw: Any) -> Engine:
    spec = WorkflowSpec(
        name="sec", title="sec", unit_model=SecretUnit, secret_fields=("note",),
        phases=(PhaseSpec(id="a", title="A", executor=seen),),
    )  # fmt: skip
    cfg = EngineConfig(prefix=prefix, plan_ttl=kw.pop("plan_ttl", 3600.0))
    return Engine(redis, Registry([spec]), cfg, sleep=instant_sleep, seed=1, **kw)


def units() -> list[dict[str, str]]:
    pairs = enumerate(zip(PSKS, NOTES, strict=True))
    return [{"name": f"u{i}", "psk": p, "note": n} for i, (p, n) in pairs]


async def test_an_unconfirmed_plan_holds_no_secret_in_clear_and_expires(redis, prefix):
    seen = Seen()
    engine = secret_engine(redis, prefix, seen, plan_ttl=120.0)
    async with engine.running():
        plan = await engine.plan("sec", units())
        job_keys = await dump_keys(redis, f"{prefix}:{{job:{plan.job_id}}}:*")
        assert {k.rsplit(":", 1)[1] for k in job_keys} >= {"meta", "plan", "inputs", "events"}
        text = repr(await dump_keys(redis, f"{prefix}:*"))
        assert not [s for s in PSKS + NOTES if s in text]
        assert "u1" in text  # what is not secret stays readable
        for key in job_keys:  # nothing of an unconfirmed plan lives forever
            assert 0 < await redis.ttl(key) <= 120 + PLAN_KEY_MARGIN, key
        detail = await engine.unit(plan.job_id, "u1")
        assert detail.inputs["psk"] == detail.inputs["note"] == "••••"
        revealed = await engine.unit(plan.job_id, "u1", reveal=True)
        assert (revealed.inputs["psk"], revealed.inputs["note"]) == (PSKS[1], NOTES[1])

        await engine.confirm(plan.job_id, plan.digest)
        for key in job_keys:  # confirmed: the job no longer expires while it runs
            assert await redis.ttl(key) == -1, key
        assert (await engine.wait(plan.job_id, timeout=10)).status == JobStatus.COMPLETED
    assert sorted(seen.psks) == PSKS and sorted(seen.notes) == NOTES
    assert not await redis.exists(f"{prefix}:{{job:{plan.job_id}}}:inputs")


async def test_a_plan_expires_from_the_start_of_planning(redis, prefix):
    seen = Seen(gate=anyio.Event())
    engine = secret_engine(redis, prefix, seen, plan_ttl=120.0)
    pattern = f"{prefix}:{{job:slow}}:*"
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: engine.plan("sec", units(), job_id="slow"))
        await seen.planning.wait()
        planning = await dump_keys(redis, pattern)
        assert {k.rsplit(":", 1)[1] for k in planning} == {"meta", "unitkeys", "inputs", "planner"}
        for key in planning:  # a process dying now leaves nothing forever
            assert 0 < await redis.ttl(key) <= 120 + PLAN_KEY_MARGIN, key
            await redis.expire(key, 5)  # as if planning had used up most of the TTL
        seen.gate.set()
    assert (await engine.get("slow")).status == JobStatus.AWAITING_CONFIRMATION
    for key in await dump_keys(redis, pattern):  # the stored plan gets its whole TTL
        assert 120 < await redis.ttl(key) <= 120 + PLAN_KEY_MARGIN, key


async def test_the_digest_is_stable_and_no_oracle_for_the_secrets(redis, prefix):
    engine = secret_engine(redis, prefix, Seen())
    first = await engine.plan("sec", units())
    again = await engine.plan("sec", units())  # fresh nonces, same plan
    other_psks = await engine.plan("sec", [{**u, "psk": "psk-zulu-0042"} for u in units()])
    assert first.digest == again.digest == other_psks.digest
    renamed = await engine.plan("sec", [{**u, "name": u["name"] + "x"} for u in units()])
    assert renamed.digest != first.digest


async def test_discarded_and_expired_plans_purge_their_inputs(redis, prefix):
    now = [1_000_000.0]
    purges: list[int] = []
    engine = secret_engine(
        redis, prefix, Seen(), plan_ttl=60.0, clock=lambda: now[0],
        on_inputs_purged=lambda: purges.append(1),
    )  # fmt: skip
    discarded = await engine.plan("sec", units()[:1])
    expired = await engine.plan("sec", units()[1:])
    inputs = f"{prefix}:{{job:%s}}:inputs"
    assert await redis.exists(inputs % discarded.job_id, inputs % expired.job_id) == 2

    await engine.discard(discarded.job_id)
    assert not await redis.exists(inputs % discarded.job_id)
    assert len(purges) == 1

    now[0] += 61
    with pytest.raises(PlanExpired):
        await engine.confirm(expired.job_id, expired.digest)
    assert (await engine.get(expired.job_id)).status == JobStatus.EXPIRED
    assert not await redis.exists(inputs % expired.job_id)
    assert len(purges) == 2
    text = repr(await dump_keys(redis, f"{prefix}:*"))
    assert not [s for s in PSKS + NOTES if s in text]


async def test_a_worker_with_another_key_fails_the_job_clearly(redis, prefix):
    seen = Seen()
    planner = secret_engine(redis, prefix, seen, secrets=SecretBox.generate())
    stranger = secret_engine(redis, prefix, seen, secrets=SecretBox.generate())
    plan = await planner.plan("sec", units())
    await planner.confirm(plan.job_id, plan.digest)
    async with stranger.running():
        view = await stranger.wait(plan.job_id, timeout=10)
    assert view.status == JobStatus.FAILED and seen.psks == []  # nothing ran on garbage
    assert f"sealed with key {planner.secrets.key_id}" in (view.error or "")
    assert stranger.secrets.key_id in view.error and KEY_ENV in view.error
    assert await redis.hlen(f"{prefix}:{{job:{plan.job_id}}}:inputs") == 3  # kept for a retry
    async with planner.running():  # the right key runs it
        await planner.retry(plan.job_id)
        assert (await planner.wait(plan.job_id, timeout=10)).status == JobStatus.COMPLETED
    assert sorted(seen.psks) == PSKS


def test_sealed_values_open_only_with_their_key_and_job():
    box, other = SecretBox.generate(), SecretBox.generate()
    token = box.seal("hunter2-secret", "job1")
    assert "hunter2" not in token and box.open(token, "job1") == "hunter2-secret"
    assert box.seal("hunter2-secret", "job1") != token  # a fresh nonce every time
    with pytest.raises(SecretKeyError, match=f"sealed with key {box.key_id}"):
        other.open(token, "job1")
    with pytest.raises(SecretKeyError, match="not from this job"):
        box.open(token, "job2")
    body = token.rsplit(":", 1)[1]
    tampered = token[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(SecretKeyError, match="does not open"):
        box.open(tampered, "job1")
    assert box.key_id in repr(box) and encode_key(b"x" * 32) not in repr(box)


def test_the_key_file_is_private_and_the_environment_wins(tmp_path):
    data = tmp_path / "data"
    box = SecretBox.load(data, environ={})
    key_file = data / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert SecretBox.load(data, environ={}).key_id == box.key_id  # reused, not replaced
    assert [p.name for p in data.iterdir()] == ["secret.key"]  # no temporary left behind

    shared = encode_key(os.urandom(32))
    elsewhere = tmp_path / "other"
    from_env = SecretBox.load(elsewhere, environ={KEY_ENV: shared})
    assert from_env.key_id == SecretBox.from_text(shared, "x").key_id != box.key_id
    assert not elsewhere.exists()  # the environment's key needs no file
    with pytest.raises(SecretKeyError, match=KEY_ENV):
        SecretBox.load(elsewhere, environ={KEY_ENV: "not-a-key"})

    os.chmod(key_file, 0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        SecretBox.load(data, environ={})


async def test_a_burst_of_purges_rewrites_the_aof_once(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    client = Redis.from_url(url, decode_responses=True)
    window = anyio.Event()  # the debounce delay ends when the test says so

    async def debounce(_delay: float) -> None:
        await window.wait()

    try:
        await client.set("pg:secret", "rotten-passphrase-4417")
        await client.delete("pg:secret")
        compactor = AofCompactor(client, sleep=debounce)
        async with anyio.create_task_group() as tg:
            tg.start_soon(compactor.run)
            for _ in range(20):  # purges one after another, the loop running between them
                compactor.request()
                await anyio.sleep(0)
            window.set()
            with anyio.fail_after(60):
                while compactor.rewrites < 1:
                    await anyio.sleep(0.01)
            await compactor.flush()  # nothing pending: no second rewrite
            assert compactor.rewrites == 1
            compactor.request()  # a later purge gets its own rewrite
            with anyio.fail_after(60):
                while compactor.rewrites < 2:
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
        files = [p for p in (tmp_path / "redis").rglob("*") if p.is_file()]
        assert any(p.suffix == ".aof" for p in files)
        assert not [p for p in files if b"rotten-passphrase" in p.read_bytes()]
    finally:
        await client.aclose()
        server.stop(force=True)
