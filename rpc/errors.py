"""Mapping engine errors and validation failures to stable, safe RPC errors:
field paths and messages, never the rejected values or internal text."""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.codec import error_message
from engine.errors import PhasegridError

# -- errors -----------------------------------------------------------------------------

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

ERROR_CODES: dict[str, int] = {
    "invalid_input": INVALID_PARAMS,
    "not_found": -32004,
    "workflow_not_found": -32005,
    "wrong_state": -32009,
    "digest_mismatch": -32010,
    "plan_expired": -32011,
    "conflicts_present": -32012,
    "confirmation_required": -32013,
    "not_confirmed": -32014,
    "redis_unavailable": -32050,
    "invalid_workflow": -32060,
}
"""Stable application error codes, keyed by the engine's error `kind`."""


STORE_UNAVAILABLE = "store unavailable"


def error_code(kind: str) -> int:
    return ERROR_CODES.get(kind, -32000)


def public_message(exc: PhasegridError) -> str:
    """What a client is told: never the text of a Redis error behind `redis_unavailable`."""
    return STORE_UNAVAILABLE if exc.kind == "redis_unavailable" else str(exc)


def store_error(exc: BaseException) -> tuple[int, str, str] | None:
    """(code, message, kind) for an error of the Redis client, else None.

    Lost connections and timeouts say "store unavailable" (the client may retry);
    any other Redis error is an internal error. The Redis text is never shown.
    """
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return ERROR_CODES["redis_unavailable"], STORE_UNAVAILABLE, "redis_unavailable"
    if isinstance(exc, RedisError):
        return INTERNAL_ERROR, "Internal error", "store_error"
    return None


class FieldError(BaseModel):
    path: str
    message: str


_PATH_RE = re.compile(r"^([A-Za-z_][\w.\[\]-]*):\s*(.+)$")


def validation_errors(exc: ValidationError) -> list[FieldError]:
    """Field paths and messages only: the rejected values are never echoed."""
    out = []
    for err in exc.errors(include_url=False):
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        out.append(FieldError(path=path or "params", message=error_message(err)))
    return out


def detail_errors(exc: PhasegridError, prefix: str = "") -> list[FieldError]:
    """The engine's located `details` (`units[3].vlan: ...`) as field errors."""
    out = []
    for line in exc.details:
        m = _PATH_RE.match(line)
        if m:
            out.append(FieldError(path=prefix + m.group(1), message=m.group(2)))
        else:
            out.append(FieldError(path=prefix or "params", message=line))
    return out
