"""Looking for secrets where a job may leave them: every Redis key (any type)
and every file under a directory (bytes, the AOF included)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis


async def dump_keys(redis: Redis, pattern: str = "*") -> dict[str, Any]:
    """Every key matching, whatever its type, with its whole value."""
    out: dict[str, Any] = {}
    async for key in redis.scan_iter(match=pattern, count=1000):
        kind = await redis.type(key)
        if kind == "string":
            out[key] = await redis.get(key)
        elif kind == "hash":
            out[key] = await redis.hgetall(key)
        elif kind == "list":
            out[key] = await redis.lrange(key, 0, -1)
        elif kind == "set":
            out[key] = sorted(await redis.smembers(key))
        elif kind == "zset":
            out[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[key] = await redis.xrange(key)
        elif kind != "none":  # "none": expired meanwhile
            raise AssertionError(f"unexpected type {kind} of {key}")
    return out


def found_in_keys(keys: dict[str, Any], needles: Iterable[str]) -> list[str]:
    text = repr(keys)
    return [n for n in needles if n in text]


def found_in_files(root: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in the bytes of a file under `root`."""
    hits = []
    wanted = [(n, n.encode()) for n in needles]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [(str(path.relative_to(root)), n) for n, raw in wanted if raw in data]
    return hits
