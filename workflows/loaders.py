"""Input readers of the workflows: `load_*(path)` for the files the CLI and TUI read
(faces find them in `WorkflowSpec.extra["load_input"]`), `parse_*(text, format)` for
the same content given as text (`WorkflowSpec.parse_text`, plan_job's `input_text`).
Both go through the same readers; each returns units or `(units, implied options)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.bounds import MAX_INPUT_BYTES
from engine.errors import InputError
from workflows.inputs import load_units
from workflows.inputs.text import TEXT_SOURCE, load_text


def load_unit_list(path: str | Path) -> list[Any]:
    """A per-unit CSV or JSON unit list (a Cloudpath export is refused by name)."""
    return list(load_units(path, kind="units"))  # type: ignore[arg-type]


def parse_unit_list(text: str, fmt: str) -> tuple[list[Any], dict[str, Any]]:
    """The same, given as text: format csv, json or auto."""
    if fmt == "cloudpath":
        raise InputError(
            "invalid format",
            details=["format: 'cloudpath' is cloudpath_dpsk's input; this workflow reads a "
                     "unit CSV or a JSON unit list (format csv, json or auto)"],
        )  # fmt: skip
    return list(load_text(text, fmt, kind="units")), {}


def load_cloudpath(path: str | Path) -> tuple[list[Any], dict[str, Any]]:
    """A Cloudpath DPSK export: its passphrases as units, its pool as options."""
    from workflows.specs.cloudpath import cloudpath_job

    export = load_units(path, kind="cloudpath")
    return cloudpath_job(export)  # type: ignore[arg-type]


def parse_cloudpath(text: str, fmt: str) -> tuple[list[Any], dict[str, Any]]:
    """The same, given as text (JSON; format cloudpath, json or auto)."""
    from workflows.specs.cloudpath import cloudpath_job

    return cloudpath_job(load_text(text, fmt, kind="cloudpath"))


def load_options_file(path: str | Path) -> tuple[list[Any], dict[str, Any]]:
    """Workflows without units (venue_cleanup): an optional JSON object of options."""
    p = Path(path)
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(
            "invalid options file", details=[f"{p.name}: larger than {MAX_INPUT_BYTES} bytes"]
        )
    return options_of(p.read_text(encoding="utf-8-sig"), p.name)


def parse_options_text(text: str, fmt: str) -> tuple[list[Any], dict[str, Any]]:
    """The same, given as text (format json or auto)."""
    if fmt not in ("json", "auto"):
        raise InputError(
            "invalid format", details=["format: this workflow reads a JSON object of options"]
        )
    return options_of(text.removeprefix("\ufeff"), TEXT_SOURCE)


def options_of(text: str, name: str) -> tuple[list[Any], dict[str, Any]]:
    """No units; the options of a JSON object (empty text: none)."""
    text = text.strip()
    if not text:
        return [], {}
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(
            "invalid options file", details=[f"{name}: expected a JSON object of options"]
        ) from None
    if not isinstance(data, dict):
        raise InputError("invalid options file", details=[f"{name}: expected a JSON object"])
    return [], data
