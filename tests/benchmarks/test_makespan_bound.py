"""The makespan benchmark's lower bound on hand-made activity logs: the unit's
longest path through R1's dependency DAG (not the sum of its activities, not the
order they ran in), the rate limit per service family minus its burst, and the
check that two contenders' simulators drew the same durations."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.makespan.bound import check_same_draws, lower_bound, rate_bound
from benchmarks.makespan.workload import minimum_writes, wants, workload

LIMITS = {"perSecond": 100.0, "burst": 200, "families": {}}


def _entry(route: str, duration: float, status: str = "SUCCESS", **subject: str) -> dict[str, Any]:
    return {"route": route, "subject": {"route": route, **subject}, "duration": duration,
            "status": status}  # fmt: skip


def _unit_log(u: Any, d: dict[str, float]) -> list[dict[str, Any]]:
    aps = "/venues/{venueId}/aps/{serial}"
    log = [
        _entry("POST /venues/{venueId}/apGroups", d["ap_group"], **{"body.name": u.ap_group}),
        _entry("POST /identityGroups", d["idg"], **{"body.name": u.identity_group}),
        _entry("POST /identityGroups/{groupId}/dpskServices", d["pool"],
               **{"body.name": u.pool}),
        _entry("POST /wifiNetworks", d["net"], **{"body.name": u.network}),
        _entry("PUT /venues/{venueId}/wifiNetworks/{networkId}", d["rel"], networkId=u.network),
        _entry("PUT /wifiNetworks/{networkId}/dpskServices/{poolId}", d["bind"],
               networkId=u.network, poolId=u.pool),
        _entry("POST /dpskServices/{poolId}/passphrases/csvFiles", d["csv"], poolId=u.pool),
        _entry("PUT /venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}",
               d["act"], networkId=u.network, apGroupId=u.ap_group),
        # an AP move is not on R1's DAG of the minimum plan: ignored however long
        _entry("PUT /venues/{venueId}/apGroups/{apGroupId}/aps/{serial}", 999.0,
               serial=u.serials[0]),
        # a FAILed try does not count
        _entry("POST /identityGroups", 500.0, "FAIL", **{"body.name": u.identity_group}),
    ]  # fmt: skip
    for serial in u.serials:
        log.append(_entry(f"PUT {aps}/lanPortSpecificSettings", d["ov"], serial=serial))
        log.append(_entry(f"PUT {aps}/lanPorts/{{portId}}/settings", d["port"], serial=serial))
    return log


def test_critical_path_follows_the_dag_with_the_slowest_unit() -> None:
    us = wants(workload(2, 3))
    fast = dict(ap_group=10, idg=10, pool=10, net=10, rel=10, bind=10, csv=10, act=10, ov=10,
                port=10)  # fmt: skip
    # unit 2: network -> relation -> activate is its longest path (30+50+5); R1 does
    # not make the binding wait for the venue relation (30+20+5 would be the binding's)
    slow = dict(fast, net=30.0, rel=50.0, bind=20.0, act=5.0, csv=1.0, ov=40.0, port=40.0)
    log = _unit_log(us[0], fast) + _unit_log(us[1], slow)
    b = lower_bound([log], us, 0.5, {}, LIMITS)
    assert b.slowest_unit == us[1].key
    assert b.path == pytest.approx(30 + 50 + 5 + 3 * 0.5)
    assert b.missing == 0 and b.rate == 0.0 and b.seconds == b.path


def test_passphrases_one_by_one_count_as_their_longest_and_missing_nodes_are_said() -> None:
    us = wants(workload(1, 3))
    u = us[0]
    base = dict(ap_group=1, idg=10, pool=10, net=1, rel=1, bind=1, csv=0, act=1, ov=1, port=1)
    log = [e for e in _unit_log(u, base) if not e["route"].endswith("/csvFiles")]
    for n, d in enumerate((5.0, 70.0, 9.0), start=1):
        log.append(_entry("POST /dpskServices/{poolId}/passphrases", d, poolId=u.pool,
                          **{"body.username": f"user-{n}"}))  # fmt: skip
    assert lower_bound([log], us, 0.0, {}, LIMITS).path == pytest.approx(10 + 10 + 70)
    # a second log fills what the first lacks (the network's relation here)
    without = [e for e in log if e["route"] != "PUT /venues/{venueId}/wifiNetworks/{networkId}"]
    alone = lower_bound([without], us, 0.0, {}, LIMITS)
    assert alone.missing == 1
    assert lower_bound([without, log], us, 0.0, {}, LIMITS).missing == 0


def test_rate_bound_is_the_busiest_family_minus_its_burst() -> None:
    calls = minimum_writes(workload(500, 20))
    seconds, family, per_family = rate_bound(calls, LIMITS)
    # wifi_api: AP group, network, relation, bind, activation per unit; 2 x 2 per AP
    assert per_family["wifi_api"] == 500 * 5 + 1000 * 2
    assert family == "wifi_api" and seconds == pytest.approx((4500 - 200) / 100)
    assert sum(calls.values()) == 500 * 8 + 1000 * 2  # 12 writes per unit
    slower = {**LIMITS, "families": {"wifi_api": (10.0, 100)}}
    assert rate_bound(calls, slower)[0] == pytest.approx((4500 - 100) / 10)


def test_same_draws_compares_subjects_drawn_once_in_each_log() -> None:
    a = [_entry("POST /identityGroups", 31.0, **{"body.name": "x"}),
         _entry("POST /identityGroups", 40.0, **{"body.name": "y"}),
         _entry("POST /identityGroups", 41.0, **{"body.name": "y"})]  # fmt: skip
    b = [_entry("POST /identityGroups", 31.0, **{"body.name": "x"}),
         _entry("POST /identityGroups", 40.0, **{"body.name": "y"})]  # fmt: skip
    assert check_same_draws(a, b) == (1, 0)
    b[0]["duration"] = 32.0
    assert check_same_draws(a, b) == (1, 1)
