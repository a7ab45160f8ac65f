"""Turning units and options into stored JSON and back, and hiding secrets.

Unit inputs are stored whole so a crashed job can be resumed, their secrets
sealed (engine/secretbox.py); everything shown to a person goes through
`redact`, and validation errors name the field, never the rejected value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from engine.errors import InputError
from engine.secretbox import is_sealed, without_ciphertext

MASK = "••••"


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {k: _reveal(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value


def dump_revealed(obj: Any) -> str:
    """JSON of a model with secret values in clear (never stored: see `SecretBox.dumps`)."""
    return json.dumps(_reveal(obj), default=str, separators=(",", ":"))


def secret_fields(model: type[BaseModel] | None) -> set[str]:
    if model is None:
        return set()
    out = set()
    for name, f in model.model_fields.items():
        ann = str(f.annotation)
        if "Secret" in ann:
            out.add(name)
    return out


def redact(data: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """Secret fields (and any sealed value) masked for display."""
    return {
        k: (MASK if (k in fields and v not in (None, "")) or is_sealed(v) else v)
        for k, v in data.items()
    }


def error_message(err: Mapping[str, Any]) -> str:
    """pydantic's message for one error without the rejected value (it may be a
    secret): a validator's own text can quote it, e.g. `bad template '...'`."""
    msg = str(err.get("msg") or "is invalid")
    value = err.get("input")
    if isinstance(value, str) and len(value) >= 3:
        for shown in (repr(value), json.dumps(value), value):
            msg = msg.replace(shown, "<value>")
    return msg


def parse_items(model: type[BaseModel] | None, items: Sequence[Any], label: str) -> list[Any]:
    """Validate raw units against the workflow's unit model; one error for all."""
    if model is None:
        return list(items)
    out: list[Any] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, model):
            out.append(item)
            continue
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = ".".join(str(x) for x in err["loc"])
                problems.append(f"{label}[{i}].{loc}: {error_message(err)}")
    if problems:
        raise InputError(f"{len(problems)} invalid {label}", details=problems[:50])
    return out


def parse_options(model: type[BaseModel] | None, options: Any, label: str = "options") -> Any:
    """Validate a settings object (options, a wave); errors name `label.field`."""
    if model is None:
        return options or {}
    if isinstance(options, model):
        return options
    try:
        return model.model_validate(options or {})
    except ValidationError as exc:
        problems = [
            f"{label}.{'.'.join(str(x) for x in e['loc'])}: {error_message(e)}".replace(
                f"{label}.: ", f"{label}: "
            )
            for e in exc.errors(include_url=False)
        ]
        raise InputError(f"invalid {label}", details=problems) from None


def digest_of(*parts: Any) -> str:
    """A digest of what a plan stands for. Sealed secrets count as present but not
    by value: their ciphertext is random and a digest of the clear text would let
    anyone who sees it test guesses (they are fixed with the job anyway)."""
    h = hashlib.sha256()
    for part in parts:
        text = json.dumps(part, sort_keys=True, default=str, separators=(",", ":"))
        h.update(without_ciphertext(text).encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]
