"""The lower bound on W's makespan, from the durations the simulator actually drew.

Two limits, the bound is the larger:
- critical path: per unit, the longest path through R1's dependency DAG of its
  operations, each step its drawn activity duration plus the minimum call latency:
  identity group -> pool -> {binding, passphrases}; network -> {binding, venue
  relation}; activation after the AP group, the binding and the venue relation
  (phasegrid relates the network in its network phase, before the binding: a
  stricter order than R1 needs, so the bound does not assume it); per AP: LAN port
  override -> port setting. The slowest unit sets it.
- rate: the minimum calls (the plan's writes with bulk where the documents allow,
  plus Phase 0's inventory reads) per service family, minus the family's burst,
  over its documented rate.
Durations are looked up by the operation's logical subject in the activity logs
given (the measured run's first): the simulator draws the same duration for the
same subject whoever asks, so the contenders' logs agree (`check_same_draws`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from benchmarks.makespan.workload import UnitWants
from workflows.r1.services import family_of

NODE_OF_ROUTE = {
    "POST /venues/{venueId}/apGroups": ("ap_group", "body.name"),
    "POST /identityGroups": ("identity_group", "body.name"),
    "POST /identityGroups/{groupId}/dpskServices": ("dpsk_pool", "body.name"),
    "POST /wifiNetworks": ("network", "body.name"),
    "PUT /venues/{venueId}/wifiNetworks/{networkId}": ("relation", "networkId"),
    "PUT /wifiNetworks/{networkId}/dpskServices/{poolId}": ("bind", "networkId"),
    "POST /dpskServices/{poolId}/passphrases/csvFiles": ("passphrases_csv", "poolId"),
    "POST /dpskServices/{poolId}/passphrases": ("passphrases", "poolId"),
    "PUT /venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}": (
        "activate", "networkId"),
    "PUT /venues/{venueId}/aps/{serial}/lanPortSpecificSettings": ("override", "serial"),
    "PUT /venues/{venueId}/aps/{serial}/lanPorts/{portId}/settings": ("port", "serial"),
}  # fmt: skip
"""Simulator route -> (DAG node, the subject field that names the unit's resource)."""


@dataclass
class Bound:
    path: float
    """R1 seconds: the slowest unit's critical path."""
    rate: float
    """R1 seconds: minimum calls over the documented rate (the busiest family)."""
    slowest_unit: str
    busiest_family: str
    minimum_calls: int
    missing: int
    """Units whose DAG lacked a drawn duration (counted as 0: the bound stays low)."""

    @property
    def seconds(self) -> float:
        return max(self.path, self.rate)


def durations(logs: Iterable[list[dict[str, Any]]], units: list[UnitWants]) -> dict[tuple, float]:
    """(unit, node[, serial]) -> drawn duration (R1 s) of its successful activity;
    several writes for one node (passphrases one by one) count as their longest.
    The first log that has a node wins."""
    owner: dict[str, str] = {}
    for u in units:
        for name in (u.ap_group, u.identity_group, u.pool, u.network, *u.serials):
            owner[name] = u.key
    out: dict[tuple, float] = {}
    for log in logs:
        found: dict[tuple, float] = defaultdict(float)
        for entry in log:
            node = NODE_OF_ROUTE.get(entry["route"])
            if node is None or entry.get("status") != "SUCCESS":
                continue
            name = entry["subject"].get(node[1], "")
            unit = owner.get(name)
            if unit is None:
                continue
            key = (unit, node[0], name) if node[1] == "serial" else (unit, node[0])
            found[key] = max(found[key], float(entry["duration"]))
        for key, value in found.items():
            out.setdefault(key, value)
    return out


def critical_path(d: dict[tuple, float], u: UnitWants, latency: float) -> tuple[float, bool]:
    """The unit's longest path (R1 s) and whether a node's duration was missing."""
    missing = False

    def step(*key: str) -> float:
        nonlocal missing
        value = d.get((u.key, *key))
        if value is None:
            missing = True
            value = 0.0
        return latency + value

    csv = d.get((u.key, "passphrases_csv"))
    idg = step("identity_group")
    pool = idg + step("dpsk_pool")
    network = step("network")
    bind = max(pool, network) + step("bind")
    relation = network + step("relation")  # R1 needs it before the AP group, not the binding
    phrases = pool + (latency + csv if csv is not None else step("passphrases"))
    activate = max(step("ap_group"), bind, relation) + step("activate")
    ports = [step("override", s) + step("port", s) for s in u.serials] if u.ports else []
    return max([activate, phrases, *ports]), missing


def rate_bound(calls: dict[str, int], limits: dict[str, Any]) -> tuple[float, str, dict[str, int]]:
    """(seconds, busiest family, calls per family) under `limits` (`rate_limit_info`)."""
    per_family: dict[str, int] = defaultdict(int)
    for route, n in calls.items():
        per_family[family_of(route)] += n
    worst, busiest = 0.0, ""
    for family, n in per_family.items():
        rate, burst = limits["families"].get(family, (limits["perSecond"], limits["burst"]))
        seconds = max(0.0, n - float(burst)) / float(rate)
        if seconds >= worst:
            worst, busiest = seconds, family
    return worst, busiest, dict(per_family)


def lower_bound(
    logs: list[list[dict[str, Any]]],
    units: list[UnitWants],
    latency: float,
    minimum_calls: dict[str, int],
    limits: dict[str, Any],
) -> Bound:
    d = durations(logs, units)
    path, slowest, missing = 0.0, "", 0
    for u in units:
        length, lacked = critical_path(d, u, latency)
        missing += lacked
        if length > path:
            path, slowest = length, u.key
    rate, busiest, _ = rate_bound(minimum_calls, limits)
    return Bound(path, rate, slowest, busiest, sum(minimum_calls.values()), missing)


def check_same_draws(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[int, int]:
    """(subjects both logs drew once, how many of them got different durations)."""

    def once(log: list[dict[str, Any]]) -> dict[str, float]:
        seen: dict[str, list[float]] = defaultdict(list)
        for e in log:
            seen[repr(sorted(e["subject"].items()))].append(float(e["duration"]))
        return {k: v[0] for k, v in seen.items() if len(v) == 1}

    one, two = once(a), once(b)
    shared = one.keys() & two.keys()
    return len(shared), sum(1 for k in shared if abs(one[k] - two[k]) > 1e-9)
