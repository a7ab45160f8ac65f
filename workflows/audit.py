"""Audit: read R1 back (bulk reads) and report, per unit, whether what the job
created or adopted is present, missing or drifted. Only document fields are
read. R1 keeps one identity per DPSK passphrase: an identity group's item
counts its identities, and a passphrase whose identity is gone has drifted."""

from __future__ import annotations

from typing import Any

from engine.models import AuditItem, AuditReport
from engine.spec import AuditContext
from workflows.inventory import venue_ap_groups
from workflows.r1ctx import client_of, metering


async def audit_job(ctx: AuditContext) -> AuditReport:
    client = client_of(ctx.resources)
    entries = [e for e in ctx.ledger if e.action in ("created", "reused", "unknown")]
    latest: dict[tuple[str, str], Any] = {}
    for e in entries:
        latest[(e.resource, e.id)] = e
    kinds = {e.resource for e in latest.values()}
    venue_ids = {e.parent["venue_id"] for e in latest.values() if e.parent.get("venue_id")}
    with metering():
        nets = (
            {n.id: n for n in await client.list_wifi_networks()}
            if kinds & {"network", "binding", "activation"}
            else {}
        )
        pools = (
            {p.id: p for p in await client.list_dpsk_pools()}
            if kinds & {"dpsk_pool", "binding", "passphrase", "passphrase_import"}
            else {}
        )
        idgs = (
            {g.id: g for g in await client.list_identity_groups()}
            if kinds & {"identity_group", "passphrase", "passphrase_import"}
            else {}
        )
        groups: dict[str, Any] = {}
        aps: dict[str, Any] = {}
        for vid in venue_ids:
            if "ap_group" in kinds:
                groups.update({g.id: g for g in await client.list_ap_groups(venue_id=vid)})
            if kinds & {"ap", "lan_ports"}:
                aps.update({a.serial_number: a for a in await client.list_aps(venue_id=vid)})
        phrases: dict[str, set[str]] = {}
        by_name: dict[str, dict[str, str]] = {}  # pool -> username -> id (imports)
        for pool_id in {
            e.parent.get("pool_id")
            for e in latest.values()
            if e.resource in ("passphrase", "passphrase_import")
        }:
            if pool_id in pools:
                rows = await client.list_passphrases(pool_id)
                phrases[pool_id] = {p.id for p in rows}
                by_name[pool_id] = {p.username or "": p.id for p in rows}
        identities: dict[str, set[str]] = {}  # group id -> passphrase ids with an identity
        for pool_id in phrases:
            group_id = pools[pool_id].identity_group_id
            if group_id in idgs and group_id not in identities:
                identities[group_id] = {
                    i.dpsk_guid for i in await client.list_identities(group_id) if i.dpsk_guid
                }
    with_identity = set().union(*identities.values()) if identities else set()
    items = [
        check(x, nets, pools, idgs, groups, aps, phrases, with_identity)
        for e in latest.values()
        for x in imported(e, by_name)
    ]
    return AuditReport(
        job_id=ctx.job_id, workflow=ctx.workflow, checked_at=ctx.clock(), items=items
    )


def imported(e: Any, by_name: dict[str, dict[str, str]]) -> list[Any]:
    """A CSV import's entry as one passphrase entry per username (its id from the
    pool, the username itself when it is gone); any other entry as itself."""
    if e.resource != "passphrase_import":
        return [e]
    names = by_name.get(e.parent.get("pool_id", ""), {})
    return [
        e.model_copy(update={"resource": "passphrase", "id": names.get(u, u), "name": u})
        for u in e.data.get("usernames") or []
    ]


def check(
    e: Any,
    nets: dict,
    pools: dict,
    idgs: dict,
    groups: dict,
    aps: dict,
    phrases: dict,
    with_identity: set[str] | None = None,
) -> AuditItem:
    status, detail = "present", None
    k, p = e.resource, e.parent
    if k == "network":
        n = nets.get(e.id)
        if n is None:
            status = "missing"
        elif e.name and n.name != e.name:
            status, detail = "drifted", f"renamed to {n.name!r}"
        elif e.data:
            wlan = n.wlan
            now = {"type": n.type, "ssid": n.effective_ssid,
                   "security": wlan.wlan_security if wlan else None,
                   "vlan": wlan.vlan_id if wlan else None}  # fmt: skip
            diffs = [f"{k} {now[k]!r} (was {v!r})" for k, v in e.data.items()
                     if k in now and now[k] is not None and now[k] != v]  # fmt: skip
            if diffs:
                status, detail = "drifted", ", ".join(diffs)
    elif k == "dpsk_pool":
        pool = pools.get(e.id)
        if pool is None:
            status = "missing"
        elif p.get("identity_group_id") and pool.identity_group_id != p["identity_group_id"]:
            status, detail = "drifted", "moved to another identity group"
    elif k == "identity_group":
        group = idgs.get(e.id)
        status = "present" if group is not None else "missing"
        if group is not None and group.identity_count is not None:
            detail = f"{group.identity_count} identities"
    elif k == "ap_group":
        status = "present" if e.id in groups else "missing"
    elif k == "binding":
        n = nets.get(e.id)
        if n is None:
            status = "missing"
        elif n.dpsk_service_id is not None and n.dpsk_service_id != p.get("pool_id"):
            # a query row has no DPSK service id (WifiNetworkQueryData): unknown here
            status, detail = "drifted", "network no longer bound to the pool"
    elif k == "activation":
        n = nets.get(e.id)
        va = (
            next((v for v in venue_ap_groups(n) if v.get("venueId") == p.get("venue_id")), None)
            if n is not None
            else None
        )
        if va is None:
            status = "missing"
        elif not va.get("isAllApGroups") and p.get("ap_group_id") not in (
            va.get("apGroupIds") or []
        ):
            status, detail = "drifted", "not active on the unit's AP group"
    elif k == "ap":
        ap = aps.get(e.id)
        if ap is None:
            status = "missing"
        elif ap.ap_group_id != p.get("ap_group_id"):
            status, detail = "drifted", "AP moved to another group"
    elif k == "lan_ports":
        status = "present" if e.id in aps else "missing"
    elif k == "passphrase":
        pool_id = p.get("pool_id")
        status = "present" if e.id in phrases.get(pool_id, set()) else "missing"
        group_id = pools[pool_id].identity_group_id if pool_id in pools else None
        if status == "present" and group_id in idgs and e.id not in (with_identity or set()):
            status, detail = "drifted", "its identity is gone"
    else:
        status = "unknown"
    return AuditItem(unit=e.unit, resource=k, id=e.id, name=e.name, status=status, detail=detail)
