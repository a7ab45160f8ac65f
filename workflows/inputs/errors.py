"""Error collection for input parsing: every problem found, one `InputError`.

Each detail reads `<source>:<line>:<col> <field>: <message> (got <value>)`;
line and column are 1-based and left out when unknown. Secret values
(passphrases, PSKs) are never echoed: they show as `'••••'`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import SecretStr, ValidationError

from engine.errors import InputError

MASK = "'••••'"
MAX_ERRORS = 50
_NO_VALUE: Any = object()
_MAX_SHOWN = 60


@dataclass(frozen=True, slots=True)
class Where:
    """A position in an input: source name, 1-based line and column when known."""

    source: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        text = self.source
        if self.line is not None:
            text += f":{self.line}"
            if self.col is not None:
                text += f":{self.col}"
        return text


def show_value(value: Any, *, secret: bool = False) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if secret or isinstance(value, SecretStr):
        return MASK
    if isinstance(value, str):
        text = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
        return repr(text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for 'expected X, got Y' messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class ErrorCollector:
    """Collects located errors; `raise_if_any` raises them all as one InputError."""

    def __init__(self, source: str, *, limit: int = MAX_ERRORS) -> None:
        self.source = source
        self.limit = limit
        self._items: list[tuple[int, int, int, str]] = []

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def where(self, line: int | None = None, col: int | None = None) -> Where:
        return Where(self.source, line, col)

    def add(
        self,
        where: Where,
        field: str,
        message: str,
        *,
        value: Any = _NO_VALUE,
        secret: bool = False,
    ) -> None:
        """Record one problem; `value` (if given) is shown, masked when `secret`."""
        text = f"{where} {field}: {message}" if field else f"{where} {message}"
        if value is not _NO_VALUE:
            text += f" (got {show_value(value, secret=secret)})"
        self._items.append((where.line or 0, where.col or 0, len(self._items), text))

    def details(self) -> list[str]:
        """Details sorted by position, capped at `limit` (plus a 'more' line)."""
        ordered = [text for *_, text in sorted(self._items)]
        if len(ordered) <= self.limit:
            return ordered
        hidden = len(ordered) - self.limit
        return [*ordered[: self.limit], f"... and {hidden} more error(s) not shown"]

    def error(self) -> InputError:
        count = len(self._items)
        noun = "error" if count == 1 else "errors"
        return InputError(f"{self.source}: {count} input {noun}", details=self.details())

    def raise_if_any(self) -> None:
        if self._items:
            raise self.error()

    def fail(self, where: Where, field: str, message: str) -> NoReturn:
        """Record one more problem and raise everything collected so far."""
        self.add(where, field, message)
        raise self.error()


# --- pydantic errors -> messages ---------------------------------------------

_TYPE_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "enum": "is not an allowed value",
}
_NO_ECHO = {"missing", "extra_forbidden"}


def message_for(error: Any) -> tuple[str, bool]:
    """(message, show_value) for one entry of `ValidationError.errors()`."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "greater_than_equal" and "ge" in ctx:
        return f"must be at least {ctx['ge']}", True
    if kind == "less_than_equal" and "le" in ctx:
        return f"must be at most {ctx['le']}", True
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind], kind not in _NO_ECHO
    msg = str(error.get("msg", "is invalid"))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if msg[:1].isupper() and msg[1:2].islower():
        msg = msg[0].lower() + msg[1:]
    return msg, True


def add_validation_errors(
    collector: ErrorCollector,
    exc: ValidationError,
    locate: Any,
    *,
    secret_fields: Iterable[str] = (),
) -> None:
    """Add every error of `exc`; `locate(loc) -> (Where, field_label)` places it."""
    secrets = set(secret_fields)
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where, label = locate(loc)
        message, echo = message_for(error)
        secret = bool(loc) and loc[0] in secrets
        if echo and "input" in error:
            collector.add(where, label, message, value=error["input"], secret=secret)
        else:
            collector.add(where, label, message)
