"""Unit lists as JSON: `[{unit_number, ap_identifiers, ...}, ...]` or `{"units": [...]}`.

Keys are those of the CSV (`ap_identifiers` may be a list or a ';'-string;
`ap_serials` and the other names of `models.AP_SERIALS_ALIASES` are accepted too).
`validate_units` applies the same rules to already-decoded data (e.g. JSON-RPC params).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.bounds import MAX_UNITS_PER_JOB

from .errors import ErrorCollector, Where, type_name
from .jsondoc import JsonDoc, format_path
from .models import AP_SERIALS_ALIASES, UnitInput
from .source import Source, read_source
from .unit_checks import UnitRecord, build_units

Locator = Callable[[Sequence[str | int]], tuple[Where, str]]


def _record(item: dict[str, Any], path: tuple[str | int, ...], locator: Locator) -> UnitRecord:
    data = dict(item)
    ap_key = "ap_serials"
    alias = next((name for name in AP_SERIALS_ALIASES if name in data), None)
    if alias is not None and "ap_serials" not in data:
        data["ap_serials"] = data.pop(alias)
        ap_key = alias

    def locate(loc: tuple[Any, ...]) -> tuple[Where, str]:
        parts = [ap_key if part == "ap_serials" and i == 0 else part for i, part in enumerate(loc)]
        if len(parts) > 1 and isinstance(item.get(str(parts[0])), str):
            parts = parts[:1]  # serials given as one ';'-string: no index in the document
        return locator((*path, *parts))

    first, _ = locator(path)
    ref = format_path(path) + (f", line {first.line}" if first.line else "")
    return UnitRecord(data, locate, ref)


def units_from_data(
    data: Any,
    errors: ErrorCollector,
    locator: Locator,
    *,
    require_password: bool = False,
) -> list[UnitInput]:
    """Validate decoded JSON-like data (a list, or {"units": [...]}) into units."""
    base: tuple[str | int, ...] = ()
    if isinstance(data, dict) and "units" in data:
        base, data = ("units",), data["units"]
    if not isinstance(data, list):
        where, label = locator(base)
        expected = "a list of units" if base else 'a list of units or {"units": [...]}'
        errors.fail(where, label, f"expected {expected}, got {type_name(data)}")
    if not data:
        where, label = locator(base)
        errors.fail(where, label, "no units")
    if len(data) > MAX_UNITS_PER_JOB:
        where, label = locator(base)
        errors.fail(where, label, f"{len(data)} units; at most {MAX_UNITS_PER_JOB} per job")
    records: list[UnitRecord] = []
    for index, item in enumerate(data):
        path = (*base, index)
        if isinstance(item, UnitInput):
            records.append(UnitRecord(item, lambda loc, p=path: locator(p), format_path(path)))
        elif isinstance(item, dict):
            records.append(_record(item, path, locator))
        else:
            where, label = locator(path)
            errors.add(where, label, f"must be an object, got {type_name(item)}")
    units = build_units(records, errors, require_password=require_password)
    errors.raise_if_any()
    return units


def parse_units_json(
    path_or_text: Source,
    *,
    source_name: str | None = None,
    require_password: bool = False,
) -> list[UnitInput]:
    """Parse and validate a JSON unit list; every problem is reported in one InputError."""
    text, source = read_source(path_or_text, source_name)
    doc = JsonDoc(text, source)
    return units_from_data(
        doc.data, ErrorCollector(source), doc.locate, require_password=require_password
    )


def validate_units(
    data: Any,
    *,
    source_name: str = "units",
    require_password: bool = False,
) -> list[UnitInput]:
    """Validate decoded unit data (list of dicts/UnitInputs, or {"units": [...]})."""

    def locate(path: Sequence[str | int]) -> tuple[Where, str]:
        return Where(source_name), format_path(path)

    return units_from_data(
        data, ErrorCollector(source_name), locate, require_password=require_password
    )
