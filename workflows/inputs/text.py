"""An input file's content given as text (plan_job's `input_text`), read by the
CLI's own readers (`load_units`). The text is never taken for a path, and its
problems read as `line 3, column 4 (ssid_password): must be ...` (secrets masked
by the readers, as for a file)."""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InputError

from .loader import InputKind, Syntax, load_units

TEXT_SOURCE = "input_text"
"""How the text is named where no position applies (e.g. `input_text file: is empty`)."""
_POSITION = re.compile(rf"^{TEXT_SOURCE}:(\d+)(?::(\d+))? (.*)$", re.DOTALL)
_FIELD = re.compile(r"^([^\s:]+): (.*)$", re.DOTALL)


def readable(detail: str) -> str:
    """`input_text:3:4 ssid_password: msg` -> `line 3, column 4 (ssid_password): msg`."""
    match = _POSITION.match(detail)
    if match is None:  # the whole text: `input_text file: is empty` -> `input_text: is empty`
        return detail.replace(f"{TEXT_SOURCE} file: ", f"{TEXT_SOURCE}: ", 1)
    line, col, rest = match.groups()
    where = f"line {line}" + (f", column {col}" if col else "")
    field = _FIELD.match(rest)
    if field is None:
        return f"{where}: {rest}"
    return f"{where} ({field.group(1)}): {field.group(2)}"


def syntax_of(fmt: str) -> Syntax:
    """plan_job's `format` -> how to read the text ("cloudpath" is JSON)."""
    if fmt == "csv":
        return "csv"
    if fmt in ("json", "cloudpath"):
        return "json"
    return "auto"


def load_text(text: str, fmt: str, *, kind: InputKind) -> Any:
    """`load_units` over the text (as bytes: never a path); InputError with readable lines."""
    try:
        return load_units(
            text.encode("utf-8", "surrogatepass"),
            kind=kind,
            source_name=TEXT_SOURCE,
            syntax=syntax_of(fmt),
        )
    except InputError as exc:
        raise InputError(exc.message, details=[readable(d) for d in exc.details]) from None
