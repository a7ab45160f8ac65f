"""Reading a unit file for the new-job form, and path completion for its input."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from textual.suggester import Suggester

from engine.errors import InputError


class PathSuggester(Suggester):
    """Completes file-system paths (directories get a trailing '/')."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        matches = [n for n in names if n.startswith(prefix) and not n.startswith(".")]
        if not matches:
            return None
        common = os.path.commonprefix(matches)  # noqa: RUF071 (names, not paths)
        if len(matches) == 1 and os.path.isdir(os.path.join(folder or ".", common)):
            common += "/"
        if len(common) <= len(prefix):
            return None
        return value + common[len(prefix) :]


def _generic(text: str, suffix: str) -> list[Any]:
    stripped = text.lstrip()
    if suffix == ".json" or stripped[:1] in ("[", "{"):
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("units", [data])
        return list(data)
    rows = list(csv.DictReader(io.StringIO(text)))
    return [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in rows]


def load_unit_file(path: str, loader: Any = None) -> tuple[list[Any], dict[str, Any]]:
    """Units (and the options the input implies) from a file: the workflow's own
    loader when it names one (e.g. a Cloudpath export), else the R1 unit parsers,
    else plain CSV rows / JSON items (the workflow's unit model validates them)."""
    p = Path(os.path.expanduser(path))
    if not p.is_file():
        raise InputError("no such file", details=[f"{path}: not a readable file"])
    if loader is not None:
        result = loader(p)
        if isinstance(result, tuple):
            return list(result[0]), dict(result[1])
        return list(result), {}
    return _load_units(p, path), {}


def _load_units(p: Path, path: str) -> list[Any]:
    domain_error: InputError | None = None
    try:
        from workflows.inputs import load_units

        loaded = load_units(p)
        if isinstance(loaded, list):
            return [dict(u) if hasattr(u, "model_fields") else u for u in loaded]
        return [loaded]
    except ImportError:
        pass
    except InputError as exc:
        domain_error = exc
    try:
        return _generic(p.read_text(encoding="utf-8-sig"), p.suffix.lower())
    except (ValueError, csv.Error) as exc:
        if domain_error is not None:
            raise domain_error from None
        raise InputError("unreadable input", details=[f"{path}: {exc}"]) from None
