"""Resource names from the naming options: prefix + template + postfix."""

from __future__ import annotations

from typing import Any

from workflows.options import NamingOptions


def render(naming: NamingOptions, template: str, unit: Any, venue: str = "", n: int = 1) -> str:
    text = template.format(
        unit_number=getattr(unit, "unit_number", ""),
        ssid_name=getattr(unit, "ssid_name", ""),
        venue=venue,
        n=n,
    )
    return f"{naming.prefix}{text}{naming.postfix}"


def names(naming: NamingOptions, unit: Any, venue: str = "") -> dict[str, str]:
    """Every per-unit resource name (the SSID carries no prefix/postfix)."""
    return {
        "ap_group": render(naming, naming.ap_group, unit, venue),
        "identity_group": render(naming, naming.identity_group, unit, venue),
        "pool": render(naming, naming.pool, unit, venue),
        "network": render(naming, naming.network, unit, venue),
        "ssid": naming.ssid.format(
            unit_number=getattr(unit, "unit_number", ""),
            ssid_name=getattr(unit, "ssid_name", ""), venue=venue, n=1,
        ),
    }  # fmt: skip


def passphrase_username(naming: NamingOptions, unit: Any, n: int) -> str:
    return render(naming, naming.passphrase_username, unit, n=n)
