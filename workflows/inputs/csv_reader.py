"""Per-unit CSV, as existing R1 tooling writes it.

Columns: `unit_number, ap_identifiers (';'-separated serials), ssid_name,
ssid_password, security_type, default_vlan`; or the one-AP-per-row variant
with `ap_serial_or_name` instead of `ap_identifiers` (rows merged by unit;
their other cells must agree, an empty cell takes the unit's value).
Headers are matched case- and whitespace-insensitively; cells are stripped.
An empty `ssid_password` cell means "no passphrase" (DPSK units).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from engine.bounds import MAX_UNITS_PER_JOB

from .errors import ErrorCollector, Where, show_value
from .models import (
    AP_LIST_COLUMN,
    AP_ROW_COLUMN,
    COLUMN_SPELLINGS,
    SECRET_UNIT_FIELDS,
    UnitInput,
)
from .source import Source, read_source, require_content
from .unit_checks import UnitRecord, build_units

AP_LIST = AP_LIST_COLUMN
AP_ROW = AP_ROW_COLUMN
REQUIRED_COLUMNS = ("unit_number", "ssid_name")
OPTIONAL_COLUMNS = ("ssid_password", "security_type", "default_vlan")
ALL_COLUMNS = ("unit_number", AP_LIST, AP_ROW, "ssid_name", *OPTIONAL_COLUMNS)
_ALIASES = COLUMN_SPELLINGS
_MERGED_FIELDS = ("ssid_name", "ssid_password", "security_type", "default_vlan")


def _column_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return _ALIASES.get(key, key)


def _read_rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of every non-blank record; malformed CSV -> InputError."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "," not in first and "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
    except csv.Error as exc:
        ErrorCollector(source).fail(Where(source, previous + 1), "csv", f"malformed CSV: {exc}")
    return rows


def _parse_header(cells: list[str], line: int, errors: ErrorCollector) -> dict[str, int]:
    """Column name -> 0-based index; reports unknown, repeated and missing columns.

    A first line that cannot be a header (no known column, or more cells than
    there are columns) is reported without echoing it: it may hold unit data,
    passphrases included.
    """
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    expected = ", ".join(c for c in ALL_COLUMNS if c != AP_ROW)
    keys = [_column_key(raw) for raw in cells]
    known = sum(key in ALL_COLUMNS for key in keys)
    if not known or len(cells) > len(ALL_COLUMNS):
        why = (
            f"none of its {len(cells)} cells is a known column"
            if not known
            else f"it has {len(cells)} cells, more than the {len(ALL_COLUMNS)} known columns"
        )
        errors.add(
            errors.where(line), "header", f"the first row must name the columns ({expected}); {why}"
        )
        return {}
    columns: dict[str, int] = {}
    for index, (raw, key) in enumerate(zip(cells, keys, strict=True)):
        where = errors.where(line, index + 1)
        if not key:
            errors.add(where, "header", f"column {index + 1} has no name")
        elif key not in ALL_COLUMNS:
            errors.add(where, "header", f"unknown column (expected {expected})", value=raw)
        elif key in columns:
            errors.add(
                where, "header", f"column repeated (also column {columns[key] + 1})", value=raw
            )
        else:
            columns[key] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if AP_LIST not in columns and AP_ROW not in columns:
        missing.insert(1, AP_LIST)
    if missing:
        errors.add(
            errors.where(line), "header", f"missing required column(s): {', '.join(missing)}"
        )
    if AP_LIST in columns and AP_ROW in columns:
        errors.add(errors.where(line), "header", f"use either {AP_LIST} or {AP_ROW}, not both")
    return columns


@dataclass(slots=True)
class _Row:
    line: int
    cells: dict[str, tuple[str, int]]  # column -> (stripped value, 1-based column)


@dataclass(slots=True)
class _Merged:
    """A unit assembled from one or more rows, remembering where each value came from."""

    first: _Row
    values: dict[str, tuple[str, _Row]] = field(default_factory=dict)
    serials: list[tuple[str, _Row]] = field(default_factory=list)


def _field_value(name: str, text: str) -> Any:
    if name in ("ssid_password", "default_vlan", "security_type") and not text:
        return None
    return text


def _make_record(merged: _Merged, ap_column: str, source: str) -> UnitRecord:
    data: dict[str, Any] = {"unit_number": merged.first.cells["unit_number"][0]}
    data["ap_serials"] = [serial for serial, _ in merged.serials]
    for name, (text, _) in merged.values.items():
        value = _field_value(name, text)
        if value is not None:
            data[name] = value

    def locate(loc: tuple[Any, ...]) -> tuple[Where, str]:
        name = str(loc[0]) if loc else "unit_number"
        if name == "ap_serials":
            index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            row = merged.serials[index][1] if index < len(merged.serials) else merged.first
            return Where(source, row.line, row.cells[ap_column][1]), ap_column
        row = merged.values[name][1] if name in merged.values else merged.first
        col = row.cells[name][1] if name in row.cells else None
        return Where(source, row.line, col), name

    return UnitRecord(data, locate, f"line {merged.first.line}")


def _norm(name: str, text: str) -> str:
    if name == "security_type":
        return re.sub(r"[\s_-]", "", text).upper()
    if name == "default_vlan" and text.isascii() and text.isdigit():
        return str(int(text))
    return text


def _merge(row: _Row, merged: _Merged, errors: ErrorCollector) -> None:
    """Fold a further row of the same unit into `merged`, reporting disagreements."""
    for name in _MERGED_FIELDS:
        if name not in row.cells or not row.cells[name][0]:
            continue
        text, col = row.cells[name]
        if name not in merged.values or not merged.values[name][0]:
            merged.values[name] = (text, row)
            continue
        first_text, first_row = merged.values[name]
        if _norm(name, text) != _norm(name, first_text):
            secret = name in SECRET_UNIT_FIELDS
            shown = "" if secret else f" ({show_value(first_text)})"
            unit = merged.first.cells["unit_number"][0]
            errors.add(
                errors.where(row.line, col),
                name,
                f"differs from line {first_row.line}{shown} for unit {unit!r}",
                value=text,
                secret=secret,
            )


def parse_units_csv(
    path_or_text: Source,
    *,
    source_name: str | None = None,
    require_password: bool = False,
) -> list[UnitInput]:
    """Parse and validate a per-unit CSV; every problem is reported in one InputError."""
    text, source = read_source(path_or_text, source_name)
    return units_from_csv_text(text, source, require_password=require_password)


def units_from_csv_text(
    text: str, source: str, *, require_password: bool = False
) -> list[UnitInput]:
    """Parse already-decoded CSV text; `source` names it in error messages."""
    require_content(text, source)
    rows = _read_rows(text, source)
    errors = ErrorCollector(source)
    if not rows:
        errors.fail(errors.where(), "file", "is empty")
    header_line, header = rows[0]
    columns = _parse_header(list(header), header_line, errors)
    errors.raise_if_any()
    if len(rows) == 1:
        errors.fail(errors.where(header_line), "file", "has a header but no unit rows")
    ap_column = AP_ROW if AP_ROW in columns else AP_LIST
    width = max(columns.values()) + 1

    units: dict[str, _Merged] = {}
    order: list[_Merged] = []
    for line, cells in rows[1:]:
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            errors.add(
                errors.where(line),
                "row",
                f"expected {width} fields, got {len(cells)} (quote values containing commas)",
            )
            continue
        row = _Row(line, {name: (cells[i].strip(), i + 1) for name, i in columns.items()})
        serial_text, serial_col = row.cells[ap_column]
        unit_key = row.cells["unit_number"][0].casefold()
        if ap_column == AP_ROW and unit_key and unit_key in units:
            merged = units[unit_key]
            _merge(row, merged, errors)
        else:
            merged = _Merged(
                row, {n: (row.cells[n][0], row) for n in _MERGED_FIELDS if n in row.cells}
            )
            order.append(merged)
            if len(order) > MAX_UNITS_PER_JOB:  # stop before building more units
                errors.fail(errors.where(line), "file", f"more than {MAX_UNITS_PER_JOB} units")
            if unit_key and ap_column == AP_ROW:
                units[unit_key] = merged
        for part in serial_text.split(";") if ap_column == AP_LIST else [serial_text]:
            serial = part.strip()
            if not serial:
                continue
            repeat = next((r for s, r in merged.serials if s.upper() == serial.upper()), None)
            if repeat is not None:
                errors.add(
                    errors.where(line, serial_col),
                    ap_column,
                    "AP serial listed twice for the unit"
                    + ("" if repeat.line == line else f" (also line {repeat.line})"),
                    value=serial,
                )
                continue
            merged.serials.append((serial, row))

    records = [_make_record(merged, ap_column, source) for merged in order]
    result = build_units(records, errors, require_password=require_password)
    errors.raise_if_any()
    return result
