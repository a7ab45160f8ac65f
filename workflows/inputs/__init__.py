"""Input parsers: unit CSV/JSON and Cloudpath DPSK exports -> typed, validated models.

Every failure raises `engine.errors.InputError` whose `details` are lines like
`units.csv:7:4 ssid_password: must be 8-63 characters (or 64 hex digits) (got '••••')`:
source, 1-based line and column (CSV) or line and JSON path, field, message,
and the bad value (secrets masked). All problems are collected (capped at 50).
"""

from __future__ import annotations

from .cloudpath import (
    CloudpathExport,
    CloudpathPassphrase,
    CloudpathPool,
    parse_cloudpath_json,
    parse_zoned_datetime,
    validate_cloudpath,
)
from .csv_reader import parse_units_csv
from .errors import MASK, MAX_ERRORS
from .json_reader import parse_units_json, validate_units
from .loader import is_cloudpath, load_units
from .models import SecurityType, UnitInput
from .writers import cloudpath_to_json, units_to_csv, units_to_json

__all__ = [
    "MASK",
    "MAX_ERRORS",
    "CloudpathExport",
    "CloudpathPassphrase",
    "CloudpathPool",
    "SecurityType",
    "UnitInput",
    "cloudpath_to_json",
    "is_cloudpath",
    "load_units",
    "parse_cloudpath_json",
    "parse_units_csv",
    "parse_units_json",
    "parse_zoned_datetime",
    "units_to_csv",
    "units_to_json",
    "validate_cloudpath",
    "validate_units",
]
