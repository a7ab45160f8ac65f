"""Reading a Wi-Fi network's activations (R1 lists them as `venueApGroups`)."""

from __future__ import annotations

from typing import Any

from workflows.inventory import venue_ap_groups


def active_on(net: Any, venue_id: str | None) -> bool:
    return any(va.get("venueId") == venue_id for va in venue_ap_groups(net))
