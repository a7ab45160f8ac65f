"""Identity groups, their identities, and the DPSK pools (`dpskServices`) created
under them, as the documents describe them.

- identity groups: `POST /identityGroups/query`, Spring pageable in the query
  string, body `{keyword, groupIds, ...}` -> `PageIdentityGroup`;
- identities: `GET /identityGroups/{groupId}/identities` -> a bare array (one
  page), `DELETE` the same path with a JSON array of ids; R1 creates one per
  passphrase (see `Store.add_passphrases`), and a group holding identities or
  a pool cannot be deleted;
- pools: `POST /dpskServices/query`, body-paged `{page (1-based), pageSize,
  searchString, filters}` -> `{data, totalCount, totalPages, page}`; a pool
  reports `networkCount`, never which networks (see `query.page_body`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.errors import bad_request, found, not_found
from workflows.sim.model import DpskPool, IdentityGroup
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import page_b, page_body, spring_page, spring_sort

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

POOL_FILTERS = {"passphraseFormat": "passphraseFormat"}
"""DpskPoolFilters the simulator models (`isEnforced` is ignored: never set)."""


class IdentityGroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class PoolCreate(BaseModel):
    """dpsk_service DpskPoolDto (the fields phasegrid and R1's UI set)."""

    name: str = Field(min_length=1, max_length=255)
    passphraseFormat: Literal["MOST_SECURED", "KEYBOARD_FRIENDLY", "NUMBERS_ONLY"]
    passphraseLength: int = Field(ge=8, le=63)
    expirationType: (
        Literal[
            "SPECIFIED_DATE", "HOURS_AFTER_TIME", "DAYS_AFTER_TIME", "WEEKS_AFTER_TIME",
            "MONTHS_AFTER_TIME", "YEARS_AFTER_TIME",
        ]
        | None
    ) = None  # fmt: skip
    expirationOffset: int | None = None
    deviceCountLimit: int | None = Field(None, ge=1, le=512)
    policyDefaultAccess: bool | None = None


def _id_list(body: object) -> list[str]:
    if not isinstance(body, list) or not body or not all(isinstance(i, str) for i in body):
        raise bad_request("Expected a non-empty JSON array of ids")
    return body


def routes(sim: Simulator) -> list[Route]:
    store = sim.store

    async def create_group(ctx: Ctx) -> Response:
        body = await ctx.model(IdentityGroupCreate)
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
        body = await ctx.body_json() if ctx.request.method == "POST" else None
        params = dict(ctx.request.query_params)
        return JSONResponse(
            page_b(
                store.identity_groups.values(),
                params,
                body if isinstance(body, dict) else {},
                lambda o: o.to_json(),
            )
        )

    def group_or_404(ctx: Ctx) -> IdentityGroup:
        return found(store.identity_groups, ctx.params["groupId"], "Identity group")

    async def get_group(ctx: Ctx) -> Response:
        return JSONResponse(group_or_404(ctx).to_json())

    async def delete_group(ctx: Ctx) -> Response:
        group_id = group_or_404(ctx).id
        rid = sim.submit(
            ctx,
            "DeleteIdentityGroup",
            lambda: store.delete_identity_group(group_id),
            obj="identityGroup",
        )
        return accepted(rid)

    async def list_identities(ctx: Ctx) -> Response:
        group = group_or_404(ctx)
        params = dict(ctx.request.query_params)
        page, size = spring_page(params)
        rows = spring_sort([store.identities[i] for i in sorted(group.identityIds)], params)
        return JSONResponse([i.to_json() for i in rows[page * size : (page + 1) * size]])

    async def delete_identities(ctx: Ctx) -> Response:
        group_id = group_or_404(ctx).id
        ids = _id_list(await ctx.body_json())
        rid = sim.submit(
            ctx,
            "DeleteIdentities",
            lambda: store.delete_identities(group_id, ids),
            obj="identity",
            items=len(ids),
        )
        return accepted(rid)

    async def create_pool(ctx: Ctx) -> Response:
        group_id = ctx.params["groupId"]
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
        body = await ctx.body_json()
        return JSONResponse(
            page_body(
                store.pools.values(),
                body if isinstance(body, dict) else {},
                lambda o: o.to_json(),
                filters=POOL_FILTERS,
            )
        )

    async def get_pool(ctx: Ctx) -> Response:
        pool = found(store.pools, ctx.params["poolId"], "DPSK service")
        return JSONResponse(pool.to_json())

    async def delete_pool(ctx: Ctx) -> Response:
        pool_id = found(store.pools, ctx.params["poolId"], "DPSK service").id
        rid = sim.submit(
            ctx, "DeleteDpskService", lambda: store.delete_pool(pool_id), obj="dpskService"
        )
        return accepted(rid)

    group = "/identityGroups/{groupId}"
    return [
        api_route(sim, "POST", "/identityGroups", create_group),
        api_route(sim, "GET", "/identityGroups", query_groups),
        api_route(sim, "POST", "/identityGroups/query", query_groups),
        api_route(sim, "GET", group, get_group),
        api_route(sim, "DELETE", group, delete_group),
        api_route(sim, "GET", group + "/identities", list_identities),
        api_route(sim, "DELETE", group + "/identities", delete_identities),
        api_route(sim, "POST", group + "/dpskServices", create_pool),
        api_route(sim, "POST", "/dpskServices/query", query_pools),
        api_route(sim, "GET", "/dpskServices/{poolId}", get_pool),
        api_route(sim, "DELETE", "/dpskServices/{poolId}", delete_pool),
    ]
