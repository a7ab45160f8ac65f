"""R1's error shapes, both synchronous (HTTP 4xx/5xx bodies) and asynchronous
(the `error` string of a FAILed activity, JSON nested inside JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.responses import JSONResponse

K = TypeVar("K")
V = TypeVar("V")


class ApiError(Exception):
    """Raised by a handler to answer synchronously with an R1-style error body."""

    def __init__(
        self, status: int, message: str, *, code: str = "SIM-10000", reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.reason = reason or message

    def response(self, request_id: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "errors": [{"code": self.code, "message": self.message, "reason": self.reason}]
        }
        if request_id:
            body["requestId"] = request_id
        return JSONResponse(body, status_code=self.status)


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} not found: {ident}", code="SIM-40400")


def found(mapping: Mapping[K, V], key: K, kind: str) -> V:
    """`mapping[key]`, or the 404 R1 answers for an unknown `kind`."""
    value = mapping.get(key)
    if value is None:
        raise not_found(kind, str(key))
    return value


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, code="SIM-40000")


@dataclass
class SubError:
    object: str
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"object": self.object, "field": self.field, "message": self.message}


@dataclass
class ActivityFailure(Exception):
    """Raised while applying an activity's write: the activity ends in FAIL."""

    sub_errors: list[SubError]
    message: str = "Validation Error"
    transient: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(e.message for e in self.sub_errors) or self.message

    def encode(self, request_id: str) -> str:
        """The exact nested form R1 puts in an activity's `error` field."""
        inner = json.dumps(
            {"message": self.message, "subErrors": [e.as_dict() for e in self.sub_errors]}
        )
        return json.dumps({"requestId": request_id, "errors": [inner]})


def validation_failure(obj: str, fld: str | None, message: str) -> ActivityFailure:
    return ActivityFailure([SubError(obj, fld, message)])


def name_not_unique(obj: str) -> ActivityFailure:
    return validation_failure(obj, "name", "Name must be unique")


def transient_failure(obj: str) -> ActivityFailure:
    return ActivityFailure(
        [SubError(obj, None, "Internal error, please retry")],
        message="Internal Server Error",
        transient=True,
    )
