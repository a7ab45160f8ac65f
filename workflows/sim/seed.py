"""Initial tenant content: a generated venue with APs, or a JSON snapshot.

Snapshots and state files share one format (`Store.dump()`): lists of
venues, apGroups, aps, wifiNetworks, activations, identityGroups,
dpskServices and passphrases (each passphrase carrying its `poolId`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflows.sim.model import (
    AP_MODELS,
    Activation,
    Ap,
    ApGroup,
    DpskPool,
    IdentityGroup,
    Network,
    Passphrase,
    Venue,
)
from workflows.sim.store import Store

MODEL_WEIGHTS: dict[str, int] = {"H510": 4, "R550": 2, "R650": 2, "H550": 1, "R750": 1, "T750": 1}


def seed_venue(
    store: Store,
    *,
    name: str,
    aps: int,
    extra_serials: list[str],
    rng: random.Random,
    new_id: Callable[[], str],
) -> Venue:
    """One venue with `aps` generated APs plus the given serials."""
    venue = Venue(
        new_id(),
        name,
        {"addressLine": "1 Simulation Way", "city": "Sunnyvale", "country": "United States"},
        "Seeded by phasegrid sim",
    )
    store.add_venue(venue, new_id())
    models = list(MODEL_WEIGHTS)
    weights = list(MODEL_WEIGHTS.values())
    serials: list[str] = []
    while len(serials) < aps:
        serial = f"{rng.randrange(10**11, 10**12)}"
        if serial not in store.aps and serial not in serials:
            serials.append(serial)
    serials += [s for s in extra_serials if s not in store.aps and s not in serials]
    for i, serial in enumerate(serials, start=1):
        model = rng.choices(models, weights)[0]
        store.add_ap(Ap.new(serial, f"AP-{i:03d}", model, venue.id, ""))
    return venue


def load_snapshot(store: Store, data: dict[str, Any], new_id: Callable[[], str]) -> None:
    """Fill an empty store from the `Store.dump()` format (missing lists are fine)."""
    groups = [ApGroup.from_json(g) for g in data.get("apGroups") or []]
    defaults = {g.venueId: g.id for g in groups if g.isDefault}
    for v in data.get("venues") or []:
        venue = Venue.from_json(v)
        store.add_venue(venue, defaults.get(venue.id) or new_id())
    for g in groups:
        if not g.isDefault:
            store.add_ap_group(g)
    for a in data.get("aps") or []:
        ap = Ap.from_json(a)
        if ap.model not in AP_MODELS:
            ap.model = "R650"
        store.add_ap(ap)
    for n in data.get("wifiNetworks") or []:
        store.add_network(Network.from_json({**n, "dpskServiceId": None}))
    for g in data.get("identityGroups") or []:
        store.add_identity_group(IdentityGroup.from_json({**g, "dpskPoolId": None}))
    for p in data.get("dpskServices") or []:
        store.add_pool(DpskPool.from_json(p))
    for n in data.get("wifiNetworks") or []:
        if n.get("dpskServiceId"):
            store.bind_pool(n["id"], n["dpskServiceId"])
    by_pool: dict[str, list[Passphrase]] = {}
    for ph in data.get("passphrases") or []:
        by_pool.setdefault(ph["poolId"], []).append(Passphrase.from_json(ph))
    for pool_id, items in by_pool.items():
        store.add_passphrases(pool_id, items)
    if "identities" in data:  # older state files: one identity per passphrase, as loaded
        store.restore_identities(data["identities"])
    for a in data.get("activations") or []:
        store.activate(Activation.from_json(a))


def read_json(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_json(path: str, data: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(target)
