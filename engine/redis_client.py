"""Connecting to Redis: a single server or a Redis Cluster, from one URL.

Users give the URL of any Redis they would give redis-cli (`redis://host:port`,
`rediss://...`, `unix://...`). Whether it is a cluster is asked of the server
(`INFO cluster` -> `cluster_enabled:1`), not spelt in the URL: the URL of any
one node of a cluster is enough, and the client discovers the others. The
store keeps every multi-key script and transaction inside one job's hash slot
(see engine/store.py), so the engine runs unchanged on either.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

AnyRedis = Redis | RedisCluster
"""What the store accepts: one server or a cluster (same command API)."""


async def cluster_enabled(client: Redis) -> bool:
    """True when the server this client talks to is a node of a Redis Cluster."""
    try:
        info = await client.info("cluster")
    except ResponseError:  # INFO refused by an ACL: taken for a single server
        return False
    return str(info.get("cluster_enabled", "0")) == "1"


async def connect(url: str, **kwargs: Any) -> AnyRedis:
    """A client for `url`: `RedisCluster` when the server is a cluster node, else `Redis`.

    Raises what the first command raises when nothing answers at `url`.
    """
    kwargs.setdefault("decode_responses", True)
    client = Redis.from_url(url, **kwargs)
    try:
        if not await cluster_enabled(client):
            return client
    except BaseException:
        await client.aclose()
        raise
    await client.aclose()
    cluster = RedisCluster.from_url(url, **kwargs)
    try:
        await cluster.initialize()
    except BaseException:
        await cluster.aclose()
        raise
    return cluster
