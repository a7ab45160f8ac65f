"""R1Config: regions, env and file loading, and secrets kept out of reprs/errors."""

from __future__ import annotations

import json
import random

import pytest

from workflows.r1 import R1Config, R1ConfigError, Region, RetryPolicy

from .helpers import SECRET


def test_regions_and_base_url() -> None:
    base = {"client_id": "c", "client_secret": "x", "tenant_id": "t"}
    assert R1Config(**base).api_base == "https://api.ruckus.cloud"
    assert R1Config(**base, region="eu").api_base == "https://api.eu.ruckus.cloud"
    assert R1Config(**base, region=Region.ASIA).api_base == "https://api.asia.ruckus.cloud"
    cfg = R1Config(**base, region="EU", base_url="http://127.0.0.1:9/")
    assert cfg.api_base == "http://127.0.0.1:9"


def test_from_env() -> None:
    env = {
        "R1_CLIENT_ID": "cid",
        "R1_CLIENT_SECRET": SECRET,
        "R1_TENANT_ID": "t1",
        "R1_REGION": "asia",
        "R1_MSP_TENANT_ID": "cust-9",
    }
    cfg = R1Config.from_env(env)
    assert cfg.client_secret.get_secret_value() == SECRET
    assert cfg.api_base == "https://api.asia.ruckus.cloud"
    assert cfg.msp_customer_tenant == "cust-9"
    cfg = R1Config.from_env({**env, "R1_BASE_URL": "http://sim:8080"})
    assert cfg.api_base == "http://sim:8080"


def test_from_file_json_and_toml(tmp_path) -> None:
    j = tmp_path / "r1.json"
    j.write_text(
        json.dumps(
            {"client_id": "a", "client_secret": SECRET, "tenant_id": "t", "retry": {"attempts": 9}}
        )
    )
    assert R1Config.from_file(j).retry.attempts == 9
    t = tmp_path / "r1.toml"
    t.write_text(
        f'[r1]\nclient_id = "a"\nclient_secret = "{SECRET}"\ntenant_id = "t"\n'
        'region = "EU"\n[r1.timeouts]\nread = 5.0\n'
    )
    cfg = R1Config.from_file(t)
    assert cfg.timeouts.read == 5.0
    assert cfg.api_base.endswith("eu.ruckus.cloud")


def test_secret_not_in_repr_or_validation_error() -> None:
    cfg = R1Config(client_id="c", client_secret=SECRET, tenant_id="t")
    for text in (repr(cfg), str(cfg), cfg.model_dump_json()):
        assert SECRET not in text
    with pytest.raises(R1ConfigError) as info:
        R1Config.from_env({"R1_CLIENT_ID": "c", "R1_CLIENT_SECRET": SECRET})  # no tenant
    assert "tenant_id" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_retry_delay_full_jitter_and_retry_after() -> None:
    policy = RetryPolicy(attempts=5, base=1.0, cap=4.0, max_retry_after=10.0)
    rng = random.Random(1)
    for attempt in range(1, 8):
        ceiling = min(4.0, 2 ** (attempt - 1))
        for _ in range(50):
            assert 0 <= policy.delay(attempt, rng) <= ceiling
    assert 3.0 <= policy.delay(1, rng, retry_after=3.0) <= 4.0
    assert 10.0 <= policy.delay(1, rng, retry_after=500.0) <= 11.0
    a = [policy.delay(i, random.Random(42)) for i in range(1, 5)]
    b = [policy.delay(i, random.Random(42)) for i in range(1, 5)]
    assert a == b


def test_the_connection_pool_does_not_cap_calls_below_the_documented_rate() -> None:
    """Each call holds a connection for its latency: 20 connections at R1's 0.6 s
    were about 33 calls/s, a third of the documented 100/s per service family."""
    from workflows.r1.services import DEFAULT_LIMIT

    cfg = R1Config(client_id="c", client_secret="s", tenant_id="t")
    per_second, _burst = DEFAULT_LIMIT
    slowest_call = 0.6  # the realistic profile's slowest call latency, R1 seconds
    assert cfg.max_connections >= per_second * slowest_call
    assert cfg.max_keepalive_connections == cfg.max_connections
