"""R1's limits on what phasegrid sends, read from the compact contract.

Phase 0 and the simulator check names, SSIDs, passphrases, VLANs and security
types against these instead of copies of the numbers, so a newer document
changes both at once. Patterns are JSON Schema patterns (searched, not
anchored); `fits` anchors the ones the service applies to the whole value.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from workflows.r1.contract.validate import Contract


def _schema(name: str) -> dict[str, Any]:
    """A `$defs` entry with its `allOf` parts' properties merged (later parts win)."""
    raw = Contract.load().defs[name]
    props: dict[str, Any] = {}
    for part in raw.get("allOf", []):
        if "$ref" in part:
            props.update(_schema(part["$ref"].rsplit("/", 1)[-1])["properties"])
        props.update(part.get("properties", {}))
    props.update(raw.get("properties", {}))
    return {**raw, "properties": props}


@cache
def field(schema: str, name: str) -> dict[str, Any]:
    """The JSON schema of one property, e.g. field("wifi_api.PskWifiWlan", "ssid")."""
    return dict(_schema(schema)["properties"][name])


@cache
def enum(schema: str, name: str) -> tuple[str, ...]:
    return tuple(v for v in field(schema, name).get("enum", ()) if v is not None)


@cache
def _pattern(schema: str, name: str) -> re.Pattern[str] | None:
    text = field(schema, name).get("pattern")
    return re.compile(text) if text else None


def fits(schema: str, name: str, value: str, *, whole: bool = True) -> bool:
    """Does `value` satisfy the property's pattern and lengths (the pattern over
    the whole value when `whole`: the service's intent for SSIDs)?"""
    spec = field(schema, name)
    if not spec.get("minLength", 0) <= len(value) <= spec.get("maxLength", len(value)):
        return False
    pattern = _pattern(schema, name)
    if pattern is None:
        return True
    return bool(pattern.fullmatch(value) if whole else pattern.search(value))


def bounds(schema: str, name: str) -> tuple[int, int]:
    """(minimum, maximum) of an integer property."""
    spec = field(schema, name)
    return int(spec["minimum"]), int(spec["maximum"])


def lengths(schema: str, name: str) -> tuple[int, int | None]:
    """(minLength, maxLength) of a string property (max None when unbounded)."""
    spec = field(schema, name)
    return int(spec.get("minLength", 0)), spec.get("maxLength")


PSK_NETWORK = "wifi_api.PskWifiNetwork"
DPSK_NETWORK = "wifi_api.DpskWifiNetwork"
PSK_WLAN = "wifi_api.PskWifiWlan"
DPSK_WLAN = "wifi_api.DpskWifiWlan"
AP_GROUP = "wifi_api.ApGroup"
AP_SERIAL = "wifi_api.ApSerialNumber"
