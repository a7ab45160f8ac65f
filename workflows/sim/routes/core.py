"""OAuth token, activities, and the private `/_sim/*` introspection routes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.config import FaultConfig
from workflows.sim.errors import ApiError, bad_request, not_found
from workflows.sim.pipeline import Ctx, api_route
from workflows.sim.ratelimit import rate_limit_info

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

MAX_ACTIVITY_PAGE = 500


class ActivityQuery(BaseModel):
    """activities_api `QueryData`: `filters` is an untyped map; R1 takes a list of
    values per key and ignores keys it does not know (so does the simulator)."""

    filters: dict[str, Any] = Field(default_factory=dict)
    page: int = Field(1, ge=1)
    pageSize: int = Field(100, ge=1, le=MAX_ACTIVITY_PAGE)

    def values(self, key: str) -> list[str] | None:
        value = self.filters.get(key)
        if value is None:
            return None
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _credentials(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            form = {k: str(v) for k, v in json.loads(raw or "{}").items()}
        except (ValueError, AttributeError):
            form = {}
    else:
        form = {k: v[0] for k, v in parse_qs(raw).items()}
    return form  # the documented form carries the credentials: no Basic header fallback


def routes(sim: Simulator) -> list[Route]:
    async def token(ctx: Ctx) -> Response:
        form = await _credentials(ctx.request)
        if form.get("grant_type", "client_credentials") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Use client_credentials")
        ok = sim.auth.credentials_ok(
            ctx.params["tenantId"], form.get("client_id", ""), form.get("client_secret", "")
        )
        if not ok:
            sim.stats_counters.unauthorized += 1
            return _oauth_error(401, "invalid_client", "Unknown tenant or client credentials")
        access, ttl = sim.auth.issue(sim.now())
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": ttl})

    async def get_activity(ctx: Ctx) -> Response:
        activity = sim.activities.lookup(ctx.params["activityId"], sim.now())
        if activity is None:
            raise not_found("Activity", ctx.params["activityId"])
        return JSONResponse(sim.activities.to_json(activity, sim.now()))

    async def query_activities(ctx: Ctx) -> Response:
        spec = await ctx.model(ActivityQuery)
        now = sim.now()
        book = sim.activities
        ids = spec.values("requestId")
        if ids is not None:
            rows = book.many(dict.fromkeys(ids), now)
        else:
            rows = [a for a in book.by_id.values() if now >= a.visible_at]
        statuses = spec.values("status")
        if statuses:
            rows = [a for a in rows if a.status_at(now) in statuses]
        start = (spec.page - 1) * spec.pageSize
        data = [book.to_json(a, now) for a in rows[start : start + spec.pageSize]]
        return JSONResponse({"data": data, "totalCount": len(rows), "page": spec.page})

    return [
        api_route(sim, "POST", "/oauth2/token/{tenantId}", token, auth=False),
        api_route(sim, "POST", "/activities/query", query_activities),
        api_route(sim, "GET", "/activities/{activityId}", get_activity),
        *private_routes(sim),
    ]


def private_routes(sim: Simulator) -> list[Route]:
    """Test and benchmark hooks; never rate-limited, faulted or counted."""

    async def stats(ctx: Ctx) -> Response:
        return JSONResponse(sim.stats())

    async def info(ctx: Ctx) -> Response:
        cfg = sim.config
        return JSONResponse(
            {
                "tenantId": cfg.tenant_id,
                "clientId": cfg.client_id,
                "venueId": sim.venue_id,
                "profile": cfg.profile,
                "seed": cfg.seed,
                "timeScale": cfg.time_scale,
                "rateLimit": rate_limit_info(cfg),
            }
        )

    async def activity_log(ctx: Ctx) -> Response:
        sim.settle()
        return JSONResponse({"timeScale": sim.config.time_scale,
                             "activities": sim.activity_log()})  # fmt: skip

    async def reset(ctx: Ctx) -> Response:
        sim.reset()
        return JSONResponse({"reset": True})

    async def get_faults(ctx: Ctx) -> Response:
        return JSONResponse(sim.faults.model_dump())

    async def put_faults(ctx: Ctx) -> Response:
        try:
            sim.faults = FaultConfig.model_validate(await ctx.body_json() or {})
        except ValidationError as exc:
            raise bad_request(f"Invalid fault config: {exc.error_count()} errors") from None
        return JSONResponse(sim.faults.model_dump())

    async def clear_faults(ctx: Ctx) -> Response:
        sim.faults = FaultConfig()
        return JSONResponse(sim.faults.model_dump())

    async def revoke(ctx: Ctx) -> Response:
        sim.auth.revoke_all()
        return JSONResponse({"revoked": True})

    async def save(ctx: Ctx) -> Response:
        try:
            return JSONResponse({"saved": sim.save()})
        except ValueError as exc:
            raise ApiError(409, str(exc)) from None

    def r(method: str, path: str, handler) -> Route:  # type: ignore[no-untyped-def]
        return api_route(sim, method, path, handler, auth=False, private=True)

    return [
        r("GET", "/_sim/stats", stats),
        r("GET", "/_sim/info", info),
        r("GET", "/_sim/activities", activity_log),
        r("POST", "/_sim/reset", reset),
        r("GET", "/_sim/faults", get_faults),
        r("PUT", "/_sim/faults", put_faults),
        r("DELETE", "/_sim/faults", clear_faults),
        r("POST", "/_sim/tokens/revoke", revoke),
        r("POST", "/_sim/save", save),
    ]
