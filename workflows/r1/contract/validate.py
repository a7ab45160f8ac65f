"""Check a request or a response against the compact R1 contract.

    contract = Contract.load()
    for v in contract.check_request("POST", "/dpskServices/query", {}, "application/json", body):
        print(v.text())  # POST /dpskServices/query request.body /filters: ...

jsonschema (Draft 2020-12) over the schemas the build derived from RUCKUS's
documents, plus two OpenAPI rules JSON Schema lacks: a `readOnly` field in a
request and a `writeOnly` field in a response are violations (R1 ignores the
first silently: the rtools2 notes on `identityId` show what that costs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from pydantic import BaseModel

CONTRACT_FILE = Path(__file__).resolve().parent / "r1_contract.json"
Direction = Literal["request", "response"]


class Violation(BaseModel):
    """One way a call broke the contract: where, which field, which rule."""

    operation: str
    where: str
    field: str = ""
    rule: str
    message: str

    def text(self) -> str:
        at = f" {self.field}" if self.field else ""
        return f"{self.operation} {self.where}{at}: {self.rule}: {self.message}"


def _only(keyword: str, message: str) -> Any:
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if value:
            yield ValidationError(message)

    return check


_VALIDATORS = {
    "request": jsonschema.validators.extend(
        Draft202012Validator,
        {"readOnly": _only("readOnly", "readOnly field sent in a request (R1 ignores it)")},
    ),
    "response": jsonschema.validators.extend(
        Draft202012Validator,
        {"writeOnly": _only("writeOnly", "writeOnly field returned in a response")},
    ),
}


SEEN_PATHS = 4096


def _validator(schema: Any, defs: Mapping[str, Any], direction: Direction) -> Any:
    root = {"$defs": defs, **schema} if isinstance(schema, dict) else schema
    return _VALIDATORS[direction](root)


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path)


class Operation(BaseModel):
    key: str
    pattern: str
    spec: dict[str, Any]


class Contract:
    """The operations of `r1_contract.json` and the rules to check calls by."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.defs: Mapping[str, Any] = data["$defs"]
        self.operations: dict[str, dict[str, Any]] = dict(data["operations"])
        self._routes: list[tuple[str, re.Pattern[str], str]] = []
        for key in sorted(self.operations, key=lambda k: (k.count("{"), -len(k))):
            method, path = key.split(" ", 1)
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
            self._routes.append((method, re.compile(f"^{regex}$"), key))
        self._validators: dict[tuple[str, str, str], Any] = {}
        self._seen: dict[tuple[str, str], str | None] = {}

    @classmethod
    @cache
    def load(cls, path: Path = CONTRACT_FILE) -> Contract:
        return cls(json.loads(Path(path).read_text()))

    def operation(self, method: str, path: str) -> str | None:
        """The operation key (`POST /dpskServices/query`) a concrete call is (asked
        several times per call: remembered for the last few thousand paths)."""
        method = method.upper()
        if (method, path) in self._seen:
            return self._seen[(method, path)]
        found = next((k for m, rx, k in self._routes if m == method and rx.match(path)), None)
        if len(self._seen) >= SEEN_PATHS:
            self._seen.clear()
        self._seen[(method, path)] = found
        return found

    def _schema_validator(self, key: str, slot: str, schema: Any, direction: Direction) -> Any:
        cached = self._validators.get((key, slot, direction))
        if cached is None:
            cached = self._validators[(key, slot, direction)] = _validator(
                schema, self.defs, direction
            )
        return cached

    def _errors(
        self, key: str, slot: str, schema: Any, instance: Any, direction: Direction, where: str
    ) -> list[Violation]:
        validator = self._schema_validator(key, slot, schema, direction)
        out = []
        for error in validator.iter_errors(instance):
            error = best_match([error]) if error.context else error
            out.append(
                Violation(
                    operation=key,
                    where=where,
                    field=_pointer(error),
                    rule=str(error.validator),
                    message=error.message[:300],
                )
            )
        return out

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        content_type: str | None,
        body: Any,
    ) -> list[Violation]:
        """Violations of one request; `body` parsed (JSON, form dict, multipart field names)."""
        key = self.operation(method, path)
        if key is None:
            return [
                Violation(
                    operation=f"{method.upper()} {path}",
                    where="request",
                    rule="operation",
                    message="not an operation of the R1 documents",
                )
            ]
        spec = self.operations[key]
        out = self._check_query(key, spec, query)
        request_body = spec.get("requestBody")
        if request_body is None:
            if body not in (None, b"", ""):
                out.append(
                    Violation(
                        operation=key,
                        where="request.body",
                        rule="requestBody",
                        message="this operation takes no body",
                    )
                )
            return out
        media, schema = _pick(request_body["content"], content_type)
        if body in (None, b"", ""):
            if request_body.get("required"):
                out.append(
                    Violation(
                        operation=key,
                        where="request.body",
                        rule="required",
                        message="a body is required",
                    )
                )
            return out
        if media is None:
            return [
                *out,
                Violation(
                    operation=key,
                    where="request.body",
                    rule="content-type",
                    message=f"{content_type!r} is not a documented media type",
                ),
            ]
        out += self._errors(key, f"req:{media}", schema, body, "request", "request.body")
        return out

    def _check_query(
        self, key: str, spec: Mapping[str, Any], query: Mapping[str, Sequence[str]]
    ) -> list[Violation]:
        params = spec.get("parameters", {}).get("query", {})
        out = []
        for name in query:
            if name not in params:
                out.append(
                    Violation(
                        operation=key,
                        where="request.query",
                        field=name,
                        rule="parameter",
                        message="not a documented query parameter",
                    )
                )
        for name, param in params.items():
            if name not in query:
                if param.get("required"):
                    out.append(
                        Violation(
                            operation=key,
                            where="request.query",
                            field=name,
                            rule="required",
                            message="missing query parameter",
                        )
                    )
                continue
            value = _coerce(query[name], param["schema"])
            out += self._errors(
                key, f"q:{name}", param["schema"], value, "request", f"request.query.{name}"
            )
        return out

    def check_response(
        self, method: str, path: str, status: int, content_type: str | None, body: Any
    ) -> list[Violation]:
        """Violations of one 2xx answer (other statuses are errors, checked elsewhere)."""
        key = self.operation(method, path)
        if key is None or not 200 <= status < 300:
            return []
        responses = self.operations[key].get("responses", {})
        if str(status) not in responses:
            return [
                Violation(
                    operation=key,
                    where="response",
                    rule="status",
                    message=f"{status} is not a documented answer "
                    f"({', '.join(sorted(responses)) or 'none'})",
                )
            ]
        content = responses[str(status)]
        if not content or body in (None, b"", ""):
            return []
        media, schema = _pick(content, content_type)
        if media is None:
            media, schema = next(iter(content.items()))
        return self._errors(key, f"resp:{status}", schema, body, "response", f"response.{status}")


def _pick(content: Mapping[str, Any], content_type: str | None) -> tuple[str | None, Any]:
    wanted = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if wanted in content:
        return wanted, content[wanted]
    if wanted.endswith("json"):
        for media in content:
            if media.endswith("json"):
                return media, content[media]
    return None, None


def _coerce(values: Sequence[str], schema: Mapping[str, Any]) -> Any:
    """A query string's text as the JSON value its schema describes."""
    kind = schema.get("type")
    if kind == "array":
        return [_scalar(v, schema.get("items", {})) for v in values]
    return _scalar(values[-1], schema)


def _scalar(text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text
