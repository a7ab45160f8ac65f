"""The crash test's worker process (tests/engine/crash_worker.py) on a Redis
Cluster: the same workflow and engine, connected through engine.redis_client."""

from __future__ import annotations

import sys

import anyio

from engine.redis_client import connect
from tests.engine import crash_worker


async def main(url: str, prefix: str) -> None:
    redis = await connect(url)
    eng = crash_worker.engine(redis, prefix, lease_ttl=1.0)
    async with eng.running():
        await anyio.sleep_forever()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
