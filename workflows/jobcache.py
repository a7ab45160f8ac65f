"""Per-job, per-process run-time state shared by a job's cells.

Loaded lazily with one bulk read the first time a cell needs it (so a job
resumed by another worker rebuilds it the same way): the venue's APs by
serial and name, and each AP group's SSID budget with the reservations of
activations in flight.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import anyio

from engine.errors import PermanentError
from workflows.inventory import venue_ap_groups
from workflows.r1 import Ap, R1Client

MAX_JOBS = 64


@dataclass
class JobCache:
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    aps: dict[str, Ap] | None = None
    ap_names: dict[str, Ap] = field(default_factory=dict)
    default_group: dict[str, str] = field(default_factory=dict)
    ssids: dict[str, set[str]] | None = None
    """AP group id -> network ids it broadcasts (committed + reserved)."""
    venue_wide: set[str] = field(default_factory=set)
    limiters: dict[str, anyio.CapacityLimiter] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


_caches: OrderedDict[tuple[int, str], JobCache] = OrderedDict()


def cache_for(client: R1Client, job_id: str) -> JobCache:
    key = (id(client), job_id)
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = JobCache()
        while len(_caches) > MAX_JOBS:
            _caches.popitem(last=False)
    else:
        _caches.move_to_end(key)
    return cache


def limiter(cache: JobCache, phase: str, limit: int | None) -> anyio.CapacityLimiter | None:
    """The options' per-phase concurrency for this job (None: no extra limit)."""
    if limit is None:
        return None
    lim = cache.limiters.get(phase)
    if lim is None:
        lim = cache.limiters[phase] = anyio.CapacityLimiter(limit)
    return lim


async def venue_aps(cache: JobCache, client: R1Client, venue_id: str) -> JobCache:
    if cache.aps is None:
        async with cache.lock:
            if cache.aps is None:
                aps = await client.list_aps(venue_id=venue_id)
                cache.ap_names = {a.name: a for a in aps if a.name}
                cache.aps = {a.serial_number: a for a in aps}
    return cache


async def resolve_ap(cache: JobCache, client: R1Client, venue_id: str, ident: str) -> Ap:
    await venue_aps(cache, client, venue_id)
    assert cache.aps is not None
    ap = cache.aps.get(ident) or cache.aps.get(ident.upper()) or cache.ap_names.get(ident)
    if ap is None:
        raise PermanentError(f"AP {ident!r} is not in the venue")
    return ap


async def default_group_id(cache: JobCache, client: R1Client, venue_id: str) -> str:
    if venue_id not in cache.default_group:
        groups = await client.list_ap_groups(venue_id=venue_id)
        for g in groups:
            if g.is_default:
                cache.default_group[venue_id] = g.id
        if venue_id not in cache.default_group:
            raise PermanentError(f"venue {venue_id} has no default AP group")
    return cache.default_group[venue_id]


async def ssid_budget(cache: JobCache, client: R1Client, venue_id: str) -> dict[str, set[str]]:
    if cache.ssids is None:
        async with cache.lock:
            if cache.ssids is None:
                ssids: dict[str, set[str]] = {}
                for net in await client.list_wifi_networks():
                    for va in venue_ap_groups(net):
                        if va.get("venueId") != venue_id:
                            continue
                        if va.get("isAllApGroups"):
                            cache.venue_wide.add(net.id)
                        for gid in va.get("apGroupIds") or []:
                            ssids.setdefault(gid, set()).add(net.id)
                cache.ssids = ssids
    return cache.ssids


def reserve_ssid(cache: JobCache, group_id: str, network_id: str, limit: int) -> bool:
    """Claim one SSID of the group's budget; False if the network already counts."""
    assert cache.ssids is not None
    nets = cache.ssids.setdefault(group_id, set())
    if network_id in nets or network_id in cache.venue_wide:
        return False
    used = len(nets | cache.venue_wide)
    if used + 1 > limit:
        raise PermanentError(
            f"AP group {group_id} already broadcasts {used} SSIDs (R1 allows {limit})"
        )
    nets.add(network_id)
    return True


def release_ssid(cache: JobCache, group_id: str, network_id: str) -> None:
    if cache.ssids is not None:
        cache.ssids.get(group_id, set()).discard(network_id)
