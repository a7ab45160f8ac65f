"""Hold every call the simulator serves to R1's published contract.

An ASGI middleware around the simulator's app: each request is checked
against `workflows/r1/contract/r1_contract.json` before the simulator sees it,
and each 2xx answer before the client does. Because it sits in the
simulator, every client (the R1 client in-process, `phasegrid sim` in another
process, a test's raw httpx call) goes through it.

Modes (`SimConfig.contract`, default from `PHASEGRID_SIM_CONTRACT`, else
`record`):
- `off`: nothing is checked;
- `record`: violations are counted (`GET /_sim/stats`) and kept in
  `sim.contract_violations`; calls proceed as R1 would take them;
- `enforce`: as `record`, and a violating request is refused with an R1-shaped
  400 naming the operation, field and rule (a violating answer becomes a 500),
  and each violation is appended as a JSON line to `$PHASEGRID_SIM_CONTRACT_LOG`
  (the test suite fails any test that adds one).

`SimConfig.record_file` appends every request (arrival wall-clock time `at`,
method, path, query, body with secrets masked to the same length) as JSON
lines, for a recording that can be validated on its own (or timed: the rate
the simulator saw).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from workflows.r1.contract.validate import Contract, Violation

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG_ENV = "PHASEGRID_SIM_CONTRACT_LOG"
PRIVATE_PREFIX = "/_sim/"
CHECKED = "phasegrid.contract_checked"
"""Scope key: the request's violations, as the guard found them."""
MAX_KEPT = 1000
SECRET_KEYS = ("passphrase", "client_secret", "dpskPassphrase", "saePassphrase")


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """A request body as the contract sees it: JSON, a form dict, or multipart field names."""
    if not raw:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.endswith("json"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    if media == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    if media == "multipart/form-data":
        return _multipart_names(content_type or "", raw)
    return raw.decode("utf-8", "replace")


def _multipart_names(content_type: str, raw: bytes) -> dict[str, str]:
    """The field names of a multipart body (the contract checks names, not file bytes)."""
    boundary = content_type.partition("boundary=")[2].strip().strip('"').encode()
    names: dict[str, str] = {}
    for part in raw.split(b"--" + boundary) if boundary else []:
        head = part.partition(b"\r\n\r\n")[0]
        marker = head.find(b'name="')
        if marker >= 0:
            names[head[marker + 6 : head.find(b'"', marker + 6)].decode()] = "<binary>"
    return names


def mask(value: Any) -> Any:
    """Secrets replaced by as many `*` as they have characters (shape kept for checks)."""
    if isinstance(value, dict):
        return {
            k: ("*" * len(v) if k in SECRET_KEYS and isinstance(v, str) else mask(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


class ContractGuard:
    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim
        self.contract = Contract.load()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mode = self.sim.config.contract
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(PRIVATE_PREFIX):
            await self.app(scope, receive, send)
            return
        if mode == "off" and not self.sim.config.record_file:
            await self.app(scope, receive, send)
            return
        raw, replay, gone = await _buffer(receive)
        if gone:  # a client killed mid-request sent nothing R1 would judge
            await self.app(scope, replay, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        content_type = headers.get("content-type")
        method = scope["method"]
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        body = parse_body(content_type, raw)
        if self.sim.config.record_file:
            self._record(method, path, query, content_type, body)
        if mode == "off":
            await self.app(scope, replay, send)
            return
        found = self.contract.check_request(method, path, query, content_type, body)
        scope[CHECKED] = found  # the pipeline's `rejected_query` reads it, not again
        if found:
            self._report(found)
            if mode == "enforce":
                await _json(send, 400, _error("CONTRACT-400", found))
                return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._answer(method, path, start, b"".join(chunks), send)

        try:
            await self.app(scope, replay, capture)
        except Exception:
            if start:  # the app broke the connection mid-answer: pass that on as it was
                await send(start)
                await send(
                    {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                )
            raise

    async def _answer(self, method: str, path: str, start: Message, raw: bytes, send: Send) -> None:
        status = int(start.get("status", 200))
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        found: list[Violation] = []
        if 200 <= status < 300:
            body = parse_body(headers.get("content-type", "application/json"), raw)
            found = self.contract.check_response(
                method, path, status, headers.get("content-type"), body
            )
        if found:
            self._report(found)
            if self.sim.config.contract == "enforce":
                await _json(send, 500, _error("CONTRACT-500", found))
                return
        await send(start)
        await send({"type": "http.response.body", "body": raw})

    def _report(self, found: list[Violation]) -> None:
        kept = self.sim.contract_violations
        kept.extend(found[: max(0, MAX_KEPT - len(kept))])
        self.sim.stats_counters.contract_violations += len(found)
        log = os.environ.get(LOG_ENV)
        if log and self.sim.config.contract == "enforce":
            with open(log, "a", encoding="utf-8") as fh:
                for v in found:
                    fh.write(v.model_dump_json() + "\n")

    def _record(
        self, method: str, path: str, query: dict, content_type: str | None, body: Any
    ) -> None:
        entry = {
            "at": round(time.time(), 6),
            "method": method,
            "path": path,
            "query": query,
            "content_type": content_type,
            "body": mask(body),
        }
        with open(self.sim.config.record_file, "a", encoding="utf-8") as fh:  # type: ignore[arg-type]
            fh.write(json.dumps(entry) + "\n")


IGNORED_BY_R1 = frozenset({"unevaluatedProperties", "parameter", "readOnly"})
"""Rules R1 does not enforce: it silently ignores undocumented fields, filters and
query parameters, and read-only fields sent in a request."""


def rejected_query(
    method: str,
    path: str,
    query: dict,
    content_type: str | None,
    raw: bytes,
    checked: list[Violation] | None = None,
) -> str | None:
    """Why R1 would answer 400 to this query body (wrong types, enums, bounds), if it would.

    The simulator validates its writes with its own models; its queries take whatever
    the documents allow, so they are checked here, the way R1 deserializes them.
    """
    if method != "POST" or not path.endswith("/query"):
        return None
    body = parse_body(content_type, raw)
    if isinstance(body, str):
        return "Malformed JSON request body"
    if checked is None:  # the guard is off: check here
        checked = Contract.load().check_request(method, path, query, content_type, body)
    found = [
        v for v in checked if v.rule not in IGNORED_BY_R1 and v.where.startswith("request.body")
    ]
    if not found:
        return None
    v = found[0]
    return f"Validation failed: {v.field.strip('/').replace('/', '.') or 'body'}: {v.message}"


def _error(code: str, found: list[Violation]) -> dict[str, Any]:
    return {
        "errors": [
            {"code": code, "message": v.text(), "reason": "Contract violation"} for v in found
        ]
    }


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _buffer(receive: Receive) -> tuple[bytes, Receive, bool]:
    """The whole request body, a `receive` that replays it, and whether the client
    went away before sending all of it (killed mid-request: nothing to judge)."""
    parts: list[bytes] = []
    gone = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            gone = message["type"] == "http.disconnect"
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(parts)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if gone:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return raw, replay, gone
