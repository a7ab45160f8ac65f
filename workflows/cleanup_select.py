"""Which of a job's ledger resources its cleanup deletes, and which it keeps.

Only what the job proved it created ("created") is deleted. "reused" (it
existed before) and "unknown" (found on a retry or a resume where R1 has no
tag to say whose it is) are kept, and the cleanup plan lists them. An
"unknown" resource of a kind phasegrid tags is deleted only if R1 still shows
this job's tag when the cleanup plans and runs (`verify`). A resource that
still holds a kept one (an AP group holding a kept AP, a pool with kept
passphrases or bound to a kept network, a network with a kept activation, an
identity group with a kept pool) is kept too: R1 would refuse the delete.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from engine.models import CleanupRequest, CleanupSource, LedgerEntry
from workflows.options import CleanupItem, CleanupOptions, CleanupUnit
from workflows.provenance import taggable

Key = tuple[str, str, str | None]
RANK = {"reused": 0, "unknown": 1, "created": 2}
REASONS = {
    "reused": "existed before the job (reused)",
    "unknown": "not proven created by this job",
}


def key_of(e: LedgerEntry) -> Key:
    return (e.resource, e.id, e.parent.get("ap_group_id"))


def verdicts(ledger: list[LedgerEntry]) -> tuple[dict[Key, LedgerEntry], dict[Key, str]]:
    """Per resource: its first entry and the strongest evidence any entry holds."""
    first: dict[Key, LedgerEntry] = {}
    best: dict[Key, str] = {}
    for e in ledger:
        if e.action not in RANK:
            continue
        k = key_of(e)
        first.setdefault(k, e)
        if k not in best or RANK[e.action] > RANK[best[k]]:
            best[k] = e.action
    return first, best


def holder(e: LedgerEntry) -> tuple[str, str] | None:
    """The resource R1 refuses to delete while `e` is still there."""
    p = e.parent
    if e.resource == "ap" and p.get("ap_group_id"):
        return ("ap_group", p["ap_group_id"])
    if e.resource == "activation":
        return ("network", e.id)
    if e.resource in ("passphrase", "passphrase_import", "binding") and p.get("pool_id"):
        return ("dpsk_pool", p["pool_id"])
    if e.resource == "dpsk_pool" and p.get("identity_group_id"):
        return ("identity_group", p["identity_group_id"])
    return None


def keep_reasons(first: dict[Key, LedgerEntry], best: dict[Key, str]) -> dict[Key, str]:
    """Key -> why it is kept; whatever may stay keeps its holder (transitively)."""
    keep = {k: REASONS[v] for k, v in best.items() if v != "created" and not _verify(k, v)}
    by_ref = {(k[0], k[1]): k for k in first}

    def stays(k: Key) -> bool:
        e = first[k]
        if e.resource == "binding":  # undone by deleting its network
            net = by_ref.get(("network", e.id))
            return net is None or stays(net)
        return k in keep or _verify(k, best[k])

    changed = True
    while changed:
        changed = False
        for k, e in first.items():
            target = holder(e)
            ref = by_ref.get(target) if target else None
            if ref is None or ref in keep or not stays(k):
                continue
            keep[ref] = f"still holds {e.resource} {e.name or e.id}, which stays"
            changed = True
    return keep


def _verify(k: Key, verdict: str) -> bool:
    return verdict == "unknown" and taggable(k[0])


def cleanup_from_ledger(source: CleanupSource) -> CleanupRequest:
    """The cleanup job of any R1 workflow's job: deletes only what it proved it created."""
    first, best = verdicts(source.ledger)
    keep = keep_reasons(first, best)
    users: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for e in source.ledger:  # a resource several units use (a shared pool) goes last
        users[(e.resource, e.id)].add(e.unit)
    units: dict[str, list[CleanupItem]] = defaultdict(list)
    passphrases: dict[str, list[str]] = defaultdict(list)
    names: dict[str, list[str]] = defaultdict(list)  # imports recorded by username
    pool_groups: dict[str, str] = {}  # where R1 keeps each pool's passphrase identities
    global_items: list[CleanupItem] = []
    kept: Counter[str] = Counter()
    venue_id = next((e.parent["venue_id"] for e in first.values() if e.parent.get("venue_id")),
                    None)  # fmt: skip
    for k, e in first.items():
        group_id = e.parent.get("identity_group_id")
        if group_id and (e.resource == "dpsk_pool" or e.parent.get("pool_id")):
            pool_groups.setdefault(e.id if e.resource == "dpsk_pool" else e.parent["pool_id"],
                                   group_id)  # fmt: skip
        why = keep.get(k)
        if why is not None:
            kept[e.resource] += 1
        if e.resource == "passphrase":
            if why is None:
                passphrases[e.parent.get("pool_id", "")].append(e.id)
            continue
        if e.resource == "passphrase_import":
            if why is None:
                names[e.parent.get("pool_id", e.id)] += list(e.data.get("usernames") or [])
            continue
        item = CleanupItem(kind=e.resource, id=e.id, name=e.name, parent=e.parent, keep=why,
                           verify=_verify(k, best[k]))  # fmt: skip
        if e.unit is None or len(users[(e.resource, e.id)]) > 1:
            global_items.append(item)
        else:
            units[e.unit].append(item)
    order = {k: i for i, k in enumerate(source.unit_keys)}
    cleanup_units = [
        CleanupUnit(unit=u, items=items).model_dump()
        for u, items in sorted(units.items(), key=lambda kv: order.get(kv[0], 1 << 30))
    ]
    options = CleanupOptions(
        venue=str(source.options.get("venue") or "Sim Venue"),
        venue_id=venue_id,
        source_job=source.job_id,
        passphrases=dict(passphrases),
        passphrase_names=dict(names),
        pool_groups={p: g for p, g in pool_groups.items() if p in passphrases or p in names},
        global_items=global_items,
        kept=dict(kept),
    )
    return CleanupRequest(
        workflow="r1_cleanup", units=cleanup_units, options=options.model_dump(),
        title=f"cleanup of {source.job_id} ({source.workflow})",
    )  # fmt: skip


def kept_line(kept: dict[str, Any]) -> str | None:
    """'3 kept (not proven created by this job): 1 ap_group, 2 activation'."""
    total = sum(kept.values())
    if not total:
        return None
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(kept.items()))
    return f"{total} kept, never deleted (not proven created by this job): {parts}"


def by_username(rows: Any, usernames: Any) -> list[str]:
    """Ids of the passphrases an import created, from their usernames: a username
    that more than one passphrase of the pool carries is not proven ours (kept)."""
    wanted = set(usernames)
    seen: dict[str, list[str]] = {}
    for p in rows:
        if p.username in wanted:
            seen.setdefault(p.username, []).append(p.id)
    return [ids[0] for ids in seen.values() if len(ids) == 1]


def owned(opts: CleanupOptions) -> dict[str, tuple[set[str], set[str]]]:
    """Pool id -> (passphrase ids, usernames) the job proved it created."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for pool_id, ids in opts.passphrases.items():
        out.setdefault(pool_id, (set(), set()))[0].update(ids)
    for pool_id, names in opts.passphrase_names.items():
        out.setdefault(pool_id, (set(), set()))[1].update(names)
    return out
