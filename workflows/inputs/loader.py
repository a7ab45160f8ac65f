"""`load_units`: pick the reader from the file's extension, else from its content."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from .cloudpath import CloudpathExport, cloudpath_from_data
from .csv_reader import units_from_csv_text
from .errors import ErrorCollector, Where
from .json_reader import units_from_data
from .jsondoc import JsonDoc
from .models import UnitInput
from .source import Source, read_source

InputKind = Literal["auto", "units", "cloudpath"]
Syntax = Literal["auto", "csv", "json"]


def is_cloudpath(data: Any) -> bool:
    """Does decoded JSON look like a Cloudpath DPSK export (object or bare array)?"""
    if isinstance(data, dict):
        return "dpsks" in data or "pool" in data
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return "passphrase" in data[0] and "unit_number" not in data[0]
    return False


def load_units(
    path: Source,
    *,
    kind: InputKind = "auto",
    source_name: str | None = None,
    require_password: bool = False,
    syntax: Syntax = "auto",
) -> list[UnitInput] | CloudpathExport:
    """Load a unit CSV, a unit JSON list or a Cloudpath export.

    `kind="units"` / `"cloudpath"` insist on one family (an InputError
    otherwise); `syntax` "csv" / "json" says how to read it, `"auto"` decides
    by extension, then content.
    """
    text, source = read_source(path, source_name)
    suffix = Path(source).suffix.lower() if syntax == "auto" else f".{syntax}"
    looks_json = text.lstrip()[:1] in ("{", "[")
    if suffix == ".csv" or (suffix != ".json" and not looks_json):
        if kind == "cloudpath":
            ErrorCollector(source).fail(
                Where(source), "file", "a Cloudpath export must be JSON, not CSV"
            )
        return units_from_csv_text(text, source, require_password=require_password)
    doc = JsonDoc(text, source)
    errors = ErrorCollector(source)
    cloudpath = is_cloudpath(doc.data)
    if kind == "units" and cloudpath:
        errors.fail(Where(source, 1), "file", "is a Cloudpath DPSK export, not a unit list")
    if kind == "cloudpath" or cloudpath:
        return cloudpath_from_data(doc.data, errors, doc.locate)
    return units_from_data(doc.data, errors, doc.locate, require_password=require_password)


__all__ = ["InputKind", "Syntax", "is_cloudpath", "load_units"]
