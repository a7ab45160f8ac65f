"""JSON-RPC 2.0 over the service layer, dispatched by `jsonrpcserver`.

This is the only module that imports `jsonrpcserver` (its OSlash dependency is
fragile on newer Pythons): swapping the dispatcher means rewriting this file
and nothing else.

Safety: params are validated by the operation's pydantic model (-32602 with
field paths, never the rejected values); engine errors map to stable codes
with `data.kind`; any other exception becomes a bare -32603 with an opaque
reference, its text stays in the server log. jsonrpcserver itself would put
`str(exc)` in -32603 `data`, so methods never let an exception escape.
"""

from __future__ import annotations

import json
import logging
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from pydantic import ValidationError

with warnings.catch_warnings():  # it reads its schema with a deprecated importlib API
    warnings.simplefilter("ignore", DeprecationWarning)
    from jsonrpcserver import Error, Success
    from jsonrpcserver.async_main import dispatch_to_serializable
    from jsonrpcserver.main import default_validator

from engine import Engine
from engine.bounds import MAX_JSON_DEPTH, too_deep
from engine.errors import InputError, PhasegridError
from rpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    detail_errors,
    error_code,
    public_message,
    store_error,
    validation_errors,
)
from rpc.service import OPERATIONS, Operation, call, parse_params

log = logging.getLogger("phasegrid.rpc")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
DEFAULT_MAX_BATCH = 50

Method = Callable[..., Awaitable[Any]]


def _error(code: int, message: str, data: Any = None, id: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "error": err, "id": id}


def _bind(op: Operation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """By-name params as they are; by-position params map to the fields in order."""
    if not args:
        return kwargs
    names = list(op.params.model_fields)
    if len(args) > len(names):
        raise _TooMany(len(names))
    return dict(zip(names, args, strict=False))


class _TooMany(Exception):
    def __init__(self, n: int) -> None:
        self.n = n


def make_method(engine: Engine, op: Operation) -> Method:
    async def method(*args: Any, **kwargs: Any) -> Any:
        try:
            params = parse_params(op, _bind(op, args, kwargs))
        except _TooMany as exc:
            return Error(
                INVALID_PARAMS,
                "Invalid params",
                {"kind": "invalid_params",
                 "errors": [{"path": "params", "message": f"at most {exc.n} positional params"}]},
            )  # fmt: skip
        except ValidationError as exc:
            errors = [e.model_dump() for e in validation_errors(exc)]
            data = {"kind": "invalid_params", "errors": errors}
            return Error(INVALID_PARAMS, "Invalid params", data)
        try:
            result = await call(engine, op, params)
        except InputError as exc:
            errors = [e.model_dump() for e in detail_errors(exc)]
            return Error(INVALID_PARAMS, exc.message, {"kind": exc.kind, "errors": errors})
        except PhasegridError as exc:
            return Error(error_code(exc.kind), public_message(exc), {"kind": exc.kind})
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            log.exception("rpc %s failed (ref %s)", op.method, ref)
            code, message, kind = store_error(exc) or (INTERNAL_ERROR, "Internal error", "internal")
            return Error(code, message, {"kind": kind, "ref": ref})
        return Success(result.model_dump(mode="json"))

    method.__name__ = op.method
    return method


def _valid_request(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    try:
        default_validator(item)
    except Exception:
        return False
    return not isinstance(item.get("id"), bool)


class JsonRpc:
    """Dispatch JSON-RPC 2.0 requests (single or batch) to the engine."""

    def __init__(self, engine: Engine, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.methods: dict[str, Method] = {op.method: make_method(engine, op) for op in OPERATIONS}

    async def _one(self, item: Any) -> dict[str, Any] | None:
        if not _valid_request(item):
            rid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(rid, str | int | float) or isinstance(rid, bool):
                rid = None
            return _error(INVALID_REQUEST, "Invalid Request", None, rid)
        try:
            response = await dispatch_to_serializable(
                "", self.methods, deserializer=lambda _s: item, validator=lambda r: r
            )
        except Exception:  # the dispatcher itself: never show its text
            log.exception("jsonrpc dispatch failed")
            if "id" not in item:
                return None
            return _error(INTERNAL_ERROR, "Internal error", {"kind": "internal"}, item.get("id"))
        if response is None:
            return None
        assert isinstance(response, dict)
        err = response.get("error")
        if isinstance(err, dict):
            if err.get("code") == METHOD_NOT_FOUND:
                err["data"] = {"kind": "method_not_found", "method": str(item.get("method"))[:100]}
            elif err.get("code") in (INTERNAL_ERROR, -32000) and not isinstance(
                err.get("data"), dict
            ):
                err["message"] = "Internal error"
                err["data"] = {"kind": "internal"}
        return response

    async def handle(self, body: bytes | str) -> Any:
        """The response document (a dict or list), or None when nothing is to be sent."""
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(PARSE_ERROR, "Parse error", {"kind": "parse_error"})
        except RecursionError:  # deeper than the interpreter's stack allows
            return _error(
                PARSE_ERROR, "Parse error", {"kind": "too_deep", "max_depth": MAX_JSON_DEPTH}
            )
        if too_deep(doc, MAX_JSON_DEPTH):
            return _error(
                INVALID_REQUEST,
                "Invalid Request",
                {"kind": "too_deep", "max_depth": MAX_JSON_DEPTH},
            )
        if isinstance(doc, list):
            if not doc:
                return _error(INVALID_REQUEST, "Invalid Request", {"kind": "empty_batch"})
            if len(doc) > self.max_batch:
                return _error(
                    INVALID_REQUEST,
                    "Invalid Request",
                    {"kind": "batch_too_large", "max_batch": self.max_batch},
                )
            results: list[dict[str, Any] | None] = [None] * len(doc)

            async def run(i: int, item: Any) -> None:
                results[i] = await self._one(item)

            async with anyio.create_task_group() as tg:
                for i, item in enumerate(doc):
                    tg.start_soon(run, i, item)
            out = [r for r in results if r is not None]
            return out or None
        return await self._one(doc)


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
