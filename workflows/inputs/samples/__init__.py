"""Deterministic sample inputs for the demo, tests and benchmarks.

Files shipped here (read them with `sample_path`/`sample_text`, which go
through `importlib.resources`): `units_48.csv`, `units_48.json`,
`units_per_ap.csv` (one AP per row) and `cloudpath_300.json`.
`regenerate()` rewrites them from the generators below.
"""

from __future__ import annotations

import os
import random
import string
import uuid
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..cloudpath import CloudpathExport, validate_cloudpath
from ..models import SecurityType, UnitInput
from ..writers import cloudpath_to_json, format_zoned, units_to_csv, units_to_json, write_text

_ALPHABET = string.ascii_letters + string.digits
_SECURITY_CYCLE = (
    SecurityType.WPA2,
    SecurityType.WPA2,
    SecurityType.WPA2_WPA3,
    SecurityType.WPA3,
)
FIRST_UNIT = 101
SERIAL_PREFIX = "921"
SAMPLE_FILES = ("units_48.csv", "units_48.json", "units_per_ap.csv", "cloudpath_300.json")


def _secret(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


def _security(i: int, dpsk: bool) -> SecurityType:
    kind = _SECURITY_CYCLE[i % len(_SECURITY_CYCLE)]
    return SecurityType.WPA2_WPA3 if dpsk and kind is SecurityType.WPA3 else kind


def sample_serial(index: int) -> str:
    """The index-th sample AP serial (1-based): '921000000001', '921000000002', ..."""
    return f"{SERIAL_PREFIX}{index:09d}"


def sample_units(
    n: int,
    *,
    seed: int = 0,
    aps_per_unit: int = 2,
    with_passwords: bool = True,
    dpsk: bool = True,
) -> list[UnitInput]:
    """`n` units '101', '102', ... with `aps_per_unit` serials each (9210000000NN...),
    SSIDs `Unit-<n>`, a WPA2 / WPA2/WPA3 mix and VLANs 101, 102, ... (wrapping
    within 101-4094). `seed` only changes the passphrases. `dpsk=False` makes every
    fourth unit WPA3, which only PSK workflows take (R1's DPSK networks have no WPA3).
    """
    rng = random.Random(seed)
    units = []
    for i in range(n):
        number = str(FIRST_UNIT + i)
        serials = [sample_serial(i * aps_per_unit + j + 1) for j in range(aps_per_unit)]
        password = _secret(rng, 12) if with_passwords else None
        units.append(
            UnitInput(
                unit_number=number,
                ap_serials=serials,
                ssid_name=f"Unit-{number}",
                ssid_password=password,
                security_type=_security(i, dpsk),
                default_vlan=FIRST_UNIT + i % (4094 - FIRST_UNIT + 1),
            )
        )
    return units


def sample_cloudpath_data(n_passphrases: int, *, seed: int = 0) -> dict[str, Any]:
    """A Cloudpath DPSK export as raw JSON-ready data (what the file holds)."""
    rng = random.Random(seed)
    denver = ZoneInfo("America/Denver")
    dpsks = []
    for i in range(n_passphrases):
        expires = None
        if i % 5 == 0:
            moment = datetime(2026, 1 + i % 12, 1 + i % 28, tzinfo=denver)
            expires = format_zoned(moment)
        limited = i % 3 == 0
        dpsks.append(
            {
                "guid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": f"resident-{i + 1:05d}",
                "passphrase": _secret(rng, 10 + i % 7),
                "status": "ACTIVE" if i % 17 else "REVOKED",
                "ssidList": ["Residents"],
                "expirationDateTime": expires,
                "useDeviceCountLimit": limited,
                "deviceCountLimit": 3 if limited else None,
                "deviceCount": i % 4,
                "vlanid": "" if i % 4 == 3 else str(FIRST_UNIT + i % 3994),
            }
        )
    return {
        "metadata": {"source": "phasegrid sample", "seed": seed, "count": n_passphrases},
        "pool": {
            "displayName": "Residents DPSK",
            "description": "Sample pool exported from Cloudpath",
            "phraseDefaultLength": 12,
            "phraseRandomCharactersType": "ALPHANUMERIC_MIXED",
            "ssidList": ["Residents"],
            "enforceExpirationDate": False,
            "expirationDateType": None,
            "expirationDateValue": None,
            "enforceDeviceCountLimit": True,
            "deviceCountLimit": 3,
            "defaultAccess": "ACCEPT",
        },
        "dpsks": dpsks,
    }


def sample_cloudpath(n_passphrases: int, *, seed: int = 0) -> CloudpathExport:
    """A validated Cloudpath export with `n_passphrases` passphrases."""
    return validate_cloudpath(sample_cloudpath_data(n_passphrases, seed=seed), source_name="sample")


def write_units_csv(
    path: str | os.PathLike[str], units: list[UnitInput], *, one_ap_per_row: bool = False
) -> Path:
    return write_text(path, units_to_csv(units, one_ap_per_row=one_ap_per_row))


def write_units_json(path: str | os.PathLike[str], units: list[UnitInput]) -> Path:
    return write_text(path, units_to_json(units))


def write_cloudpath_json(path: str | os.PathLike[str], export: CloudpathExport) -> Path:
    return write_text(path, cloudpath_to_json(export))


def sample_path(name: str) -> Traversable:
    """A shipped sample file (see SAMPLE_FILES), via importlib.resources."""
    return resources.files(__name__).joinpath(name)


def sample_text(name: str) -> str:
    return sample_path(name).read_text(encoding="utf-8")


def sample_ap_serials() -> list[str]:
    """Every AP serial of the shipped sample files (those of `units_48`, which hold
    `units_per_ap`'s): a simulator serving the samples must have these APs."""
    return [s for u in sample_units(48) for s in u.ap_serials]


def render_samples() -> dict[str, str]:
    """The exact content of every shipped sample file."""
    units = sample_units(48)
    return {
        "units_48.csv": units_to_csv(units),
        "units_48.json": units_to_json(units),
        "units_per_ap.csv": units_to_csv(sample_units(6, seed=1), one_ap_per_row=True),
        "cloudpath_300.json": cloudpath_to_json(sample_cloudpath(300)),
    }


def regenerate(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Rewrite the sample files (into this package's folder by default)."""
    target = Path(directory) if directory is not None else Path(__file__).parent
    return [write_text(target / name, text) for name, text in render_samples().items()]
