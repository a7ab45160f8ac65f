"""Build `UnitInput`s from located raw records and check them against each other.

Shared by the CSV and JSON readers: per-unit validation (via the model) plus
the cross-unit rules: no duplicate unit numbers (case-insensitive, as they
name R1 resources) and no AP serial in two units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from .errors import ErrorCollector, Where, add_validation_errors
from .models import (
    SECRET_UNIT_FIELDS,
    UnitInput,
    check_ap_serial,
    check_unit_number,
    is_ap_name,
    split_serials,
)

Locate = Callable[[tuple[Any, ...]], tuple[Where, str]]


@dataclass(slots=True)
class UnitRecord:
    """Raw field values (keyed by `UnitInput` field names) and how to locate them."""

    data: dict[str, Any] | UnitInput
    locate: Locate
    ref: str  # how other errors refer to this record, e.g. "line 4"


def build_units(
    records: Iterable[UnitRecord],
    collector: ErrorCollector,
    *,
    require_password: bool = False,
) -> list[UnitInput]:
    """Validate every record; errors go to `collector`; returns the valid units."""
    units: list[UnitInput] = []
    first_unit: dict[str, tuple[str, str]] = {}
    first_serial: dict[str, tuple[str, str]] = {}
    for record in records:
        if isinstance(record.data, UnitInput):
            unit: UnitInput | None = record.data
        else:
            try:
                unit = UnitInput.model_validate(record.data)
            except ValidationError as exc:
                add_validation_errors(
                    collector, exc, record.locate, secret_fields=SECRET_UNIT_FIELDS
                )
                unit = None
        number, serials = _identity(unit, record)
        ok = unit is not None
        if number is not None:
            key = number.casefold()
            if key in first_unit:
                other, ref = first_unit[key]
                where, label = record.locate(("unit_number",))
                same = "" if other == number else f" {other!r}"
                collector.add(where, label, f"duplicate unit{same} (first at {ref})", value=number)
                ok = False
            else:
                first_unit[key] = (number, record.ref)
        for index, serial in serials:
            if serial in first_serial:
                other, ref = first_serial[serial]
                where, label = record.locate(("ap_serials", index))
                collector.add(
                    where,
                    label,
                    f"AP serial already assigned to unit {other!r} ({ref})",
                    value=serial,
                )
                ok = False
            else:
                first_serial[serial] = (number or "?", record.ref)
        if require_password and unit is not None and unit.ssid_password is None:
            where, label = record.locate(("ssid_password",))
            collector.add(where, label, "required (a WPA passphrase for the unit's SSID)")
            ok = False
        if ok and unit is not None:
            units.append(unit)
    return units


def _identity(
    unit: UnitInput | None, record: UnitRecord
) -> tuple[str | None, list[tuple[int, str]]]:
    """Unit number and (index, serial) pairs: from the unit, else from the valid raw values."""
    if unit is not None:
        return unit.unit_number, list(enumerate(unit.ap_serials))
    data = record.data if isinstance(record.data, dict) else {}
    try:
        number: str | None = check_unit_number(data.get("unit_number"))
    except PydanticCustomError:
        number = None
    raw = split_serials(data.get("ap_serials"))
    serials: dict[str, int] = {}
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            serials.setdefault(check_ap_serial(item), index)
        except PydanticCustomError:
            continue
    return number, [(index, serial) for serial, index in serials.items()]


# -- R1's limits (Phase 0) ------------------------------------------------------

DPSK_SECURITY_HINT = (
    "R1's DPSK networks allow only WPA2 and WPA2/WPA3 (no WPA3): run WPA3 units with per_unit_psk"
)


@dataclass(frozen=True, slots=True)
class LimitProblem:
    """A unit value R1 would refuse: the unit's field and why (never the value if secret)."""

    field: str
    message: str

    def text(self) -> str:
        return f"{self.field}: {self.message}"


def network_problems(
    *,
    kind: str,
    network_name: str,
    ssid: str,
    security: str,
    vlan: int | None,
    passphrase: str | None,
    description: str | None = None,
) -> list[LimitProblem]:
    """What R1's documents (PskWifiNetwork / DpskWifiNetwork and their WLANs)
    refuse in a unit's network: names, SSID, security, VLAN, passphrase."""
    from workflows.r1.contract import limits as L  # the contract is only needed here

    net = L.DPSK_NETWORK if kind == "dpsk" else L.PSK_NETWORK
    wlan = L.DPSK_WLAN if kind == "dpsk" else L.PSK_WLAN
    out: list[LimitProblem] = []
    if not L.fits(net, "name", network_name):
        out.append(LimitProblem(
            "network name",
            f"{network_name!r} is not a valid R1 network name (2-32 characters, "
            "no leading/trailing space, no ` or $()",
        ))  # fmt: skip
    if description is not None and not L.fits(net, "description", description):
        out.append(LimitProblem("description", "longer than R1 allows for a network"))
    if not L.fits(wlan, "ssid", ssid):
        out.append(LimitProblem(
            "ssid_name",
            f"{ssid!r} is not a valid R1 SSID (2-32 characters, no leading/trailing space, no `)",
        ))  # fmt: skip
    allowed = L.enum(wlan, "wlanSecurity")
    if security not in allowed:
        hint = DPSK_SECURITY_HINT if kind == "dpsk" else f"R1 allows {', '.join(allowed)}"
        label = {"WPA3": "WPA3", "WPA2Personal": "WPA2", "WPA23Mixed": "WPA2/WPA3"}
        out.append(LimitProblem(
            "security_type", f"{label.get(security, security)} is not available here: {hint}",
        ))  # fmt: skip
    lo, hi = L.bounds(wlan, "vlanId")
    if vlan is not None and not lo <= vlan <= hi:
        out.append(LimitProblem("default_vlan", f"VLAN {vlan} is outside {lo}-{hi}"))
    if kind == "psk" and passphrase is not None and not L.fits(L.PSK_WLAN, "passphrase",
                                                               passphrase):  # fmt: skip
        out.append(LimitProblem(
            "ssid_password",
            "R1 takes 8-63 printable characters without leading/trailing space, ` or $(, "
            "or 64 hex digits",
        ))  # fmt: skip
    return out


def ap_group_problems(name: str, description: str | None = None) -> list[LimitProblem]:
    """What R1's ApGroup schema refuses in a unit's AP group."""
    from workflows.r1.contract import limits as L

    out: list[LimitProblem] = []
    if not L.fits(L.AP_GROUP, "name", name):
        out.append(LimitProblem(
            "ap group name",
            f"{name!r} is not a valid R1 AP group name (2-64 characters, "
            "no leading/trailing space, no ` or $()",
        ))  # fmt: skip
    if description is not None and not L.fits(L.AP_GROUP, "description", description):
        out.append(LimitProblem("description", "R1 takes 2-180 characters for an AP group"))
    return out


def ap_serial_problem(ident: str) -> LimitProblem | None:
    """An AP identifier that is neither an AP name nor an R1 serial (ApSerialNumber)."""
    from workflows.r1.contract import limits as L

    if is_ap_name(ident) or L.fits(L.AP_SERIAL, "serialNumber", ident):
        return None
    return LimitProblem(
        "ap_serials", f"{ident!r} is not an R1 AP serial (12 digits, the first not 0)"
    )
