"""The per-request pipeline every API route goes through, in R1's order:
settle due activities -> count -> authenticate -> rate-limit -> inject faults
-> call latency -> handler. Handlers get a `Ctx` and return a Response.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from workflows.sim.errors import ApiError, bad_request

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class Ctx:
    sim: Simulator
    request: Request
    route: str  # templated, e.g. "POST /identityGroups"
    text: str  # path + raw body, for targeted fault rules
    tenant: str
    parsed: Any = None  # the JSON body once read (the simulator names activities from it)

    @property
    def params(self) -> dict[str, str]:
        return self.request.path_params

    async def body_json(self) -> Any:
        raw = await self.request.body()
        if not raw:
            return None
        try:
            self.parsed = json.loads(raw)
            return self.parsed
        except ValueError as exc:
            raise bad_request(f"Malformed JSON body: {exc}") from None

    async def model(self, model: type[M]) -> M:
        """The body validated as `model`; a 400 naming the fields otherwise."""
        data = await self.body_json()
        try:
            return model.model_validate(data if data is not None else {})
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            raise bad_request(f"Validation failed: {details}") from None


Handler = Callable[[Ctx], Awaitable[Response]]


def accepted(request_id: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"requestId": request_id, **extra}, status_code=202)


class DroppedResponse(Response):
    """Starts a response, then breaks the connection, as a dying proxy would.

    Over uvicorn the socket closes mid-body; in-process (httpx ASGITransport)
    the same `httpx.RemoteProtocolError` reaches the client.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"requestId":', "more_body": True})
        raise httpx.RemoteProtocolError("simulated dropped connection")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": _REASONS.get(status, "Error"), "message": message},
        status_code=status,
        headers=headers,
    )


_REASONS = {
    401: "Unauthorized",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def api_route(
    sim: Simulator,
    method: str,
    path: str,
    handler: Handler,
    *,
    auth: bool = True,
    private: bool = False,
) -> Route:
    """A Starlette route whose endpoint runs `handler` through the pipeline."""
    key = f"{method} {path}"

    async def endpoint(request: Request) -> Response:
        sim.settle()
        stats = sim.stats_counters
        if not private:
            stats.request(key)
        response = await _run(sim, request, key, handler, auth=auth, private=private)
        if not private:
            stats.response(response.status_code)
        return response

    return Route(path, endpoint, methods=[method], name=key)


async def _rejected_query(request: Request) -> str | None:
    from urllib.parse import parse_qs

    from workflows.sim.contract_guard import CHECKED, rejected_query

    if request.method != "POST" or not request.url.path.endswith("/query"):
        return None
    query = parse_qs(request.url.query, keep_blank_values=True)
    return rejected_query(
        request.method,
        request.url.path,
        query,
        request.headers.get("content-type"),
        await request.body(),
        request.scope.get(CHECKED),
    )


async def _run(
    sim: Simulator, request: Request, key: str, handler: Handler, *, auth: bool, private: bool
) -> Response:
    stats = sim.stats_counters
    now = sim.now()
    tenant = sim.config.tenant_id
    if auth:
        token = sim.auth.check(request.headers.get("authorization"), now)
        if token is None:
            stats.unauthorized += 1
            return _error(401, "Missing, unknown or expired bearer token")
        tenant = request.headers.get("x-rks-tenantid") or token.tenant_id
    if not private:
        wait = sim.limiter.acquire(tenant, now, key)
        if wait is not None:
            stats.rate_limited += 1
            headers = (
                {"Retry-After": sim.limiter.retry_after(wait)}
                if sim.config.retry_after_header
                else None
            )
            return _error(429, "Rate limit exceeded for tenant", headers)
    text = request.url.path
    if sim.injector.has_rules and not private:
        text += " " + (await request.body()).decode("utf-8", "replace")
    fault = None if private else sim.injector.http_fault(key, text, is_auth=not auth)
    if fault is not None and fault.action != "lost":
        stats.faults[fault.action] += 1
        return await _fault_response(sim, fault.action, fault.message)
    lo, hi = sim.config.latency.call_latency
    delay = sim.scaled(sim.rng_latency.uniform(lo, hi)) if hi > 0 else 0.0
    if delay > 0:
        await anyio.sleep(delay)
    if not private and (why := await _rejected_query(request)) is not None:
        return bad_request(why).response()
    ctx = Ctx(sim, request, key, text, tenant)
    try:
        response = await handler(ctx)
    except ApiError as exc:
        response = exc.response()
    if fault is not None and response.status_code < 300:
        stats.faults["lost_response"] += 1
        return _error(502, fault.message)
    return response


async def _fault_response(sim: Simulator, action: str, message: str) -> Response:
    if action == "drop":
        return DroppedResponse()
    if action == "hang":
        await anyio.sleep(sim.config.faults.hang_seconds)
        return _error(504, message)
    if action == "http_429":
        sim.stats_counters.rate_limited += 1
        headers = {"Retry-After": "1"} if sim.config.retry_after_header else None
        return _error(429, message, headers)
    return _error(int(action.removeprefix("http_")), message)
