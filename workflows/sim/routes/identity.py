"""Identity groups and the DPSK pools (`dpskServices`) created under them.

Both are Spring-style resources in R1, so their listings answer
`{content, totalElements}` (see `query.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.errors import found, not_found
from workflows.sim.model import DpskPool, IdentityGroup
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import narrow, page_b

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator


class IdentityGroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class PoolCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    passphraseFormat: Literal["MOST_SECURED", "KEYBOARD_FRIENDLY", "NUMBERS_ONLY"] = "MOST_SECURED"
    passphraseLength: int = Field(18, ge=8, le=63)
    expirationType: str | None = None
    deviceCountLimit: int | None = Field(None, ge=1, le=50)


def routes(sim: Simulator) -> list[Route]:
    async def listing(ctx: Ctx, by_id: dict, by_name: dict) -> Response:  # type: ignore[type-arg]
        body = await ctx.body_json() if ctx.request.method == "POST" else None
        body = body if isinstance(body, dict) else {}
        filters = body.get("filters") if isinstance(body.get("filters"), dict) else None
        rows = narrow(by_id, filters, by_name)
        return JSONResponse(
            page_b(rows, dict(ctx.request.query_params), body, lambda o: o.to_json())
        )

    async def create_group(ctx: Ctx) -> Response:
        body = await ctx.model(IdentityGroupCreate)
        store = sim.store
        group = IdentityGroup(sim.new_uuid(), body.name, body.description or "")
        release = sim.reserve(
            "identityGroups", "", body.name, body.name in store.identity_by_name, group.id
        )
        rid = sim.submit(
            ctx,
            "AddIdentityGroup",
            lambda: store.add_identity_group(group),
            obj="identityGroup",
            on_done=release,
        )
        return accepted(rid, id=group.id)

    async def query_groups(ctx: Ctx) -> Response:
        return await listing(ctx, sim.store.identity_groups, sim.store.identity_by_name)

    async def get_group(ctx: Ctx) -> Response:
        group = found(sim.store.identity_groups, ctx.params["groupId"], "Identity group")
        return JSONResponse(group.to_json())

    async def delete_group(ctx: Ctx) -> Response:
        group_id = found(sim.store.identity_groups, ctx.params["groupId"], "Identity group").id
        rid = sim.submit(
            ctx,
            "DeleteIdentityGroup",
            lambda: sim.store.delete_identity_group(group_id),
            obj="identityGroup",
        )
        return accepted(rid)

    async def create_pool(ctx: Ctx) -> Response:
        group_id = ctx.params["groupId"]
        store = sim.store
        if group_id not in store.identity_groups and group_id not in store.pending_ids:
            raise not_found("Identity group", group_id)
        body = await ctx.model(PoolCreate)
        pool = DpskPool(
            sim.new_id(),
            body.name,
            group_id,
            body.passphraseFormat,
            body.passphraseLength,
            body.expirationType,
            body.deviceCountLimit,
        )
        release = sim.reserve(
            "dpskServices", "", body.name, body.name in store.pool_by_name, pool.id
        )
        rid = sim.submit(
            ctx, "AddDpskService", lambda: store.add_pool(pool), obj="dpskService", on_done=release
        )
        return accepted(rid, id=pool.id)

    async def query_pools(ctx: Ctx) -> Response:
        return await listing(ctx, sim.store.pools, sim.store.pool_by_name)

    async def get_pool(ctx: Ctx) -> Response:
        pool = found(sim.store.pools, ctx.params["poolId"], "DPSK service")
        return JSONResponse(pool.to_json())

    async def delete_pool(ctx: Ctx) -> Response:
        pool_id = found(sim.store.pools, ctx.params["poolId"], "DPSK service").id
        rid = sim.submit(
            ctx, "DeleteDpskService", lambda: sim.store.delete_pool(pool_id), obj="dpskService"
        )
        return accepted(rid)

    return [
        api_route(sim, "POST", "/identityGroups", create_group),
        api_route(sim, "GET", "/identityGroups", query_groups),
        api_route(sim, "POST", "/identityGroups/query", query_groups),
        api_route(sim, "GET", "/identityGroups/{groupId}", get_group),
        api_route(sim, "DELETE", "/identityGroups/{groupId}", delete_group),
        api_route(sim, "POST", "/identityGroups/{groupId}/dpskServices", create_pool),
        api_route(sim, "GET", "/dpskServices", query_pools),
        api_route(sim, "POST", "/dpskServices/query", query_pools),
        api_route(sim, "GET", "/dpskServices/{poolId}", get_pool),
        api_route(sim, "DELETE", "/dpskServices/{poolId}", delete_pool),
    ]
