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
