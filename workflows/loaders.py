"""Input-file loaders the faces find in `WorkflowSpec.extra["load_input"]`:
`loader(path) -> units` or `(units, implied options)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.bounds import MAX_INPUT_BYTES
from engine.errors import InputError
from workflows.inputs import load_units


def load_unit_list(path: str | Path) -> list[Any]:
    """A per-unit CSV or JSON unit list (a Cloudpath export is refused by name)."""
    return list(load_units(path, kind="units"))  # type: ignore[arg-type]


def load_cloudpath(path: str | Path) -> tuple[list[Any], dict[str, Any]]:
    """A Cloudpath DPSK export: its passphrases as units, its pool as options."""
    from workflows.specs.cloudpath import cloudpath_job

    export = load_units(path, kind="cloudpath")
    return cloudpath_job(export)  # type: ignore[arg-type]


def load_options_file(path: str | Path) -> tuple[list[Any], dict[str, Any]]:
    """Workflows without units (venue_cleanup): an optional JSON object of options."""
    p = Path(path)
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(
            "invalid options file", details=[f"{p.name}: larger than {MAX_INPUT_BYTES} bytes"]
        )
    text = p.read_text(encoding="utf-8-sig").strip()
    if not text:
        return [], {}
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(
            "invalid options file", details=[f"{p.name}: expected a JSON object of options"]
        ) from None
    if not isinstance(data, dict):
        raise InputError("invalid options file", details=[f"{p.name}: expected a JSON object"])
    return [], data
