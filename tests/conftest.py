"""Shared fixtures: one real redis-server per test session (the embedded one,
same code path as the app), a fresh key prefix per test."""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.redis_server import EmbeddedRedis

pytest_plugins = [
    p
    for p in ("tests.fixtures_sim",)
    if os.path.exists(os.path.join(os.path.dirname(__file__), p.split(".")[-1] + ".py"))
]

_counter = itertools.count()

# Every simulator the suite starts (in this process or a `phasegrid sim` child,
# which inherits the environment) refuses calls that break R1's published
# contract and logs them here; `_no_contract_violations` fails the test that
# made one. See workflows/sim/contract_guard.py.
CONTRACT_LOG = Path(tempfile.gettempdir()) / f"phasegrid-contract-{os.getpid()}.jsonl"
os.environ["PHASEGRID_SIM_CONTRACT"] = "enforce"
os.environ["PHASEGRID_SIM_CONTRACT_LOG"] = str(CONTRACT_LOG)
CONTRACT_LOG.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _no_contract_violations() -> Iterator[None]:
    before = CONTRACT_LOG.stat().st_size if CONTRACT_LOG.exists() else 0
    yield
    if CONTRACT_LOG.exists() and CONTRACT_LOG.stat().st_size > before:
        with CONTRACT_LOG.open(encoding="utf-8") as fh:
            fh.seek(before)
            lines = [json.loads(line) for line in fh.read().splitlines() if line.strip()]
        text = "\n".join(
            f"  {v['operation']} {v['where']} {v['field']}: {v['rule']}: {v['message']}"
            for v in lines[:20]
        )
        pytest.fail(f"{len(lines)} R1 contract violation(s):\n{text}", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop(force=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def prefix() -> str:
    return f"t{os.getpid()}x{next(_counter)}"


@pytest.fixture
async def redis(redis_url: str, prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])
        await client.aclose()
