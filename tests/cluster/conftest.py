"""Fixtures for the Redis Cluster tests: one real local three-node cluster per
session (tests/cluster/local_cluster.py) and, per test, a cluster client that
records every error a command or pipeline raised, so a test can prove that no
script or transaction crossed hash slots (CROSSSLOT on the server, or the
client's own same-slot check)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from tests.cluster.local_cluster import LocalCluster

SLOT_ERRORS = ("CROSSSLOT", "same slot", "same key slot", "different slots")


class RecordingCluster(RedisCluster):
    """A RedisCluster that remembers every error raised (then raises it as usual)."""

    errors: list[str]

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_command(*args, **kwargs)
        except Exception as exc:
            self.errors.append(f"{args[0]}: {type(exc).__name__}: {exc}")
            raise

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        async def recorded(*args: Any, **kwargs: Any) -> Any:
            try:
                return await execute(*args, **kwargs)
            except Exception as exc:
                self.errors.append(f"pipeline: {type(exc).__name__}: {exc}")
                raise

        pipe.execute = recorded  # type: ignore[method-assign]
        return pipe

    def slot_errors(self) -> list[str]:
        return [e for e in self.errors if any(s in e for s in SLOT_ERRORS)]


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(Path(tmp_path_factory.mktemp("cluster"))) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def cluster_url(local_cluster: LocalCluster) -> str:
    return local_cluster.url


async def crossslot_errors(cluster: LocalCluster) -> int:
    """CROSSSLOT errors the servers answered so far (INFO errorstats, every node)."""
    total = 0
    for port in cluster.ports:
        node = Redis(host="127.0.0.1", port=port, decode_responses=True)
        try:
            stats = await node.info("errorstats")
        finally:
            await node.aclose()
        total += int((stats.get("errorstat_CROSSSLOT") or {}).get("count", 0))
    return total


@pytest.fixture
async def cluster(local_cluster: LocalCluster, prefix: str) -> AsyncIterator[RecordingCluster]:
    """A cluster client for one test; its keys (under `prefix`) go afterwards.
    The test fails if any command or the servers raised a cross-slot error."""
    crossslot_before = await crossslot_errors(local_cluster)
    client = RecordingCluster.from_url(local_cluster.url, decode_responses=True)
    client.errors = []
    try:
        yield client
        assert client.slot_errors() == []
        assert await crossslot_errors(local_cluster) == crossslot_before
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)  # split by slot by the client
        await client.aclose()


@pytest.fixture
def cluster_env(cluster_url: str) -> dict[str, str]:
    """The environment of a subprocess that uses the cluster."""
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": str(root), "PHASEGRID_REDIS_URL": cluster_url}
