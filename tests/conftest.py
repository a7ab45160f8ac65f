"""Shared fixtures: one real redis-server per test session (the embedded one,
same code path as the app), a fresh key prefix per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from engine.redis_server import EmbeddedRedis

pytest_plugins = [
    p
    for p in ("tests.fixtures_sim",)
    if os.path.exists(os.path.join(os.path.dirname(__file__), p.split(".")[-1] + ".py"))
]

_counter = itertools.count()


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
