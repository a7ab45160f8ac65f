"""The acceptance scan of issue 9 (secrets): after a DPSK job, a Cloudpath job,
a discarded plan and an expired plan on the app's own runtime (embedded Redis
with AOF in a data directory, the key file beside it), neither the Redis
keyspace nor any file of the data directory holds an input passphrase, nor
the sealed form of a purged one."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from app.runtime import RuntimeSettings, open_runtime
from engine import Engine, EngineConfig, JobStatus
from engine.errors import PlanExpired
from engine.secretbox import KEY_ENV, is_sealed
from tests.secret_scan import dump_keys, found_in_files, found_in_keys
from workflows.inputs.samples import sample_cloudpath, sample_units
from workflows.specs.cloudpath import cloudpath_job

pytestmark = pytest.mark.anyio


def passwords(units: list[Any]) -> list[str]:
    return [u.ssid_password.get_secret_value() for u in units]


async def sealed_inputs(rt: Any, job_id: str) -> list[str]:
    raw = await rt.redis.hgetall(f"pg:{{job:{job_id}}}:inputs")
    assert raw, "the plan stored its inputs"
    return [v for doc in raw.values() for v in json.loads(doc).values() if is_sealed(v)]


async def test_no_passphrase_rests_in_redis_or_on_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv("PHASEGRID_REDIS_URL", raising=False)
    data = tmp_path / "data"
    dpsk_units = sample_units(6, seed=11)
    discard_units, expire_units = sample_units(3, seed=12), sample_units(3, seed=13)
    export = sample_cloudpath(40, seed=14)
    cp_units, cp_opts = cloudpath_job(export, include_revoked=True)
    secrets = passwords(dpsk_units + discard_units + expire_units)
    secrets += [p.passphrase.get_secret_value() for p in export.dpsks]
    assert len(set(secrets)) == len(secrets) == 52
    settings = RuntimeSettings(
        data_dir=data, backend="sim", sim_profile="instant", sim_aps=4,
        sim_extra_serials=[s for u in dpsk_units for s in u.ap_serials],
        rate_limit_per_minute=1_000_000,
        engine=EngineConfig(activity_min_interval=0.005, activity_max_interval=0.05),
    )  # fmt: skip
    tokens: list[str] = []
    async with open_runtime(settings) as rt:
        engine = rt.engine
        assert rt.embedded is not None and rt.settings.engine.prefix == "pg"

        dpsk = await engine.plan("per_unit_dpsk", dpsk_units)
        unconfirmed = await dump_keys(rt.redis)  # not in clear while it awaits confirmation
        assert not found_in_keys(unconfirmed, passwords(dpsk_units))
        tokens += await sealed_inputs(rt, dpsk.job_id)
        await engine.confirm(dpsk.job_id, dpsk.digest)
        assert (await engine.wait(dpsk.job_id, timeout=60)).status == JobStatus.COMPLETED

        cp = await engine.plan("cloudpath_dpsk", cp_units, cp_opts)
        tokens += await sealed_inputs(rt, cp.job_id)
        await engine.confirm(cp.job_id, cp.digest)
        assert (await engine.wait(cp.job_id, timeout=60)).status == JobStatus.COMPLETED

        discarded = await engine.plan("per_unit_dpsk", discard_units)
        tokens += await sealed_inputs(rt, discarded.job_id)
        await engine.discard(discarded.job_id)

        frozen = [1_000_000.0]  # the same store and key, on a clock the test moves
        late = Engine(
            rt.redis, engine.registry, engine.config, resources=engine.resources,
            secrets=engine.secrets, on_inputs_purged=engine.store.on_purge,
            clock=lambda: frozen[0],
        )  # fmt: skip
        expired = await late.plan("per_unit_dpsk", expire_units)
        tokens += await sealed_inputs(rt, expired.job_id)
        frozen[0] += engine.config.plan_ttl + 1
        with pytest.raises(PlanExpired):
            await late.confirm(expired.job_id, expired.digest)
        assert (await engine.get(expired.job_id)).status == JobStatus.EXPIRED

        assert len(tokens) == 52
        keyspace = await dump_keys(rt.redis)
        assert len(keyspace) > 20 and dpsk.job_id in repr(keyspace)
        assert not found_in_keys(keyspace, secrets)
        assert not found_in_keys(keyspace, tokens)
        embedded = rt.embedded
    assert embedded.process is None  # stopped: the AOF on disk is final

    files = [p.name for p in data.rglob("*") if p.is_file()]
    assert "appendonly.aof" in files and "secret.key" in files
    aof = (data / "appendonly.aof").read_bytes()
    assert dpsk.job_id.encode() in aof and b"Unit-101" in aof  # the scan reads real data
    assert not found_in_files(data, secrets)
    assert not found_in_files(data, tokens)  # purged ciphertext is gone too
    assert stat.S_IMODE(os.stat(data / "secret.key").st_mode) == 0o600
