"""Write units and Cloudpath exports back out as CSV/JSON (secrets in clear).

For samples, tests and benchmarks: the output parses back to equal models.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .cloudpath import CloudpathExport, CloudpathPassphrase
from .models import UnitInput

CSV_COLUMNS = (
    "unit_number",
    "ap_identifiers",
    "ssid_name",
    "ssid_password",
    "security_type",
    "default_vlan",
)


def _secret(value: Any) -> str | None:
    return None if value is None else value.get_secret_value()


def units_to_csv(units: Iterable[UnitInput], *, one_ap_per_row: bool = False) -> str:
    """CSV text in the R1-tooling layout (or the `ap_serial_or_name` variant)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = list(CSV_COLUMNS)
    if one_ap_per_row:
        columns[1] = "ap_serial_or_name"
    writer.writerow(columns)
    for unit in units:
        rest = [
            unit.ssid_name,
            _secret(unit.ssid_password) or "",
            unit.security_type.value,
            "" if unit.default_vlan is None else str(unit.default_vlan),
        ]
        if one_ap_per_row:
            for serial in unit.ap_serials or [""]:
                writer.writerow([unit.unit_number, serial, *rest])
        else:
            writer.writerow([unit.unit_number, ";".join(unit.ap_serials), *rest])
    return out.getvalue()


def unit_to_dict(unit: UnitInput) -> dict[str, Any]:
    """One unit as a JSON object with the CSV's keys (passphrase in clear)."""
    data: dict[str, Any] = {
        "unit_number": unit.unit_number,
        "ap_identifiers": list(unit.ap_serials),
        "ssid_name": unit.ssid_name,
        "security_type": unit.security_type.value,
    }
    if unit.ssid_password is not None:
        data["ssid_password"] = unit.ssid_password.get_secret_value()
    if unit.default_vlan is not None:
        data["default_vlan"] = unit.default_vlan
    return data


def units_to_json(units: Iterable[UnitInput], *, indent: int | None = 2) -> str:
    """`{"units": [...]}` JSON text."""
    return json.dumps({"units": [unit_to_dict(u) for u in units]}, indent=indent) + "\n"


def format_zoned(moment: datetime) -> str:
    """Aware datetime -> Cloudpath/Java style '2026-06-15T00:00-06:00[America/Denver]'."""
    spec = "minutes" if moment.second == 0 and moment.microsecond == 0 else "auto"
    text = moment.isoformat(timespec=spec)
    if isinstance(moment.tzinfo, ZoneInfo):
        text += f"[{moment.tzinfo.key}]"
    return text


def passphrase_to_dict(entry: CloudpathPassphrase) -> dict[str, Any]:
    data = entry.model_dump(by_alias=True)
    data["passphrase"] = entry.passphrase.get_secret_value()
    moment = entry.expiration_date_time
    data["expirationDateTime"] = None if moment is None else format_zoned(moment)
    data["vlanid"] = "" if entry.vlan_id is None else str(entry.vlan_id)
    return data


def cloudpath_to_dict(export: CloudpathExport) -> dict[str, Any] | list[dict[str, Any]]:
    """The export as JSON-ready data; a bare array when it has no pool."""
    dpsks = [passphrase_to_dict(entry) for entry in export.dpsks]
    if export.pool is None and export.metadata is None:
        return dpsks
    pool = None if export.pool is None else export.pool.model_dump(by_alias=True)
    return {"metadata": export.metadata, "pool": pool, "dpsks": dpsks}


def cloudpath_to_json(export: CloudpathExport, *, indent: int | None = 2) -> str:
    return json.dumps(cloudpath_to_dict(export), indent=indent) + "\n"


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text (no newline translation); returns the path."""
    target = Path(path)
    target.write_text(text, encoding="utf-8", newline="")
    return target
