"""Wi-Fi networks, their venue/AP-group activations and DPSK pool bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.errors import bad_request, found, not_found
from workflows.sim.model import Activation, Network
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import QuerySpec, narrow, page_a

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator


class Wlan(BaseModel):
    ssid: str = Field(min_length=1, max_length=32)
    wlanSecurity: Literal["WPA2Personal", "WPA3Personal", "WPA23Mixed", "WPA2Enterprise"] = (
        "WPA2Personal"
    )
    passphrase: str | None = Field(None, min_length=8, max_length=63)
    vlanId: int = Field(1, ge=1, le=4094)


class NetworkCreate(BaseModel):
    name: str = Field(min_length=2, max_length=32)
    type: Literal["psk", "dpsk"]
    wlan: Wlan
    description: str | None = Field(None, max_length=256)

    @model_validator(mode="after")
    def _psk_needs_passphrase(self) -> NetworkCreate:
        if self.type == "psk" and not self.wlan.passphrase:
            raise ValueError("a psk network needs wlan.passphrase")
        return self


class ActivationBody(BaseModel):
    venueId: str | None = None
    networkId: str | None = None
    isAllApGroups: bool = True
    apGroups: list[str | dict[str, Any]] = Field(default_factory=list)
    scheduler: dict[str, Any] | None = None

    def group_ids(self) -> list[str]:
        ids = [
            g if isinstance(g, str) else str(g.get("apGroupId") or g.get("id") or "")
            for g in self.apGroups
        ]
        return list(dict.fromkeys(i for i in ids if i))


def routes(sim: Simulator) -> list[Route]:
    def network_json(n: Network) -> dict[str, Any]:
        store = sim.store
        body = n.to_json()
        body["ssid"] = n.wlan.get("ssid")
        body["venueIds"] = sorted(store.activated_venues.get(n.id, ()))
        body["venueApGroups"] = [
            {
                "venueId": v,
                "isAllApGroups": store.activations[(v, n.id)].isAllApGroups,
                "apGroupIds": list(store.activations[(v, n.id)].apGroupIds),
            }
            for v in body["venueIds"]
        ]
        return body

    def network_or_404(network_id: str) -> Network:
        return found(sim.store.networks, network_id, "Wi-Fi network")

    def known(network_id: str) -> None:
        if network_id not in sim.store.networks and network_id not in sim.store.pending_ids:
            raise not_found("Wi-Fi network", network_id)

    async def create_network(ctx: Ctx) -> Response:
        body = await ctx.model(NetworkCreate)
        store = sim.store
        wlan = body.wlan.model_dump(exclude_none=True)
        network = Network(sim.new_id(), body.name, body.type, wlan, body.description or "")
        release = sim.reserve(
            "wifiNetworks", "", body.name, body.name in store.network_by_name, network.id
        )
        rid = sim.submit(
            ctx,
            "AddWifiNetwork",
            lambda: store.add_network(network),
            obj="wifiNetwork",
            on_done=release,
        )
        return accepted(rid, response={"id": network.id})

    async def query_networks(ctx: Ctx) -> Response:
        spec = await ctx.model(QuerySpec)
        rows = narrow(sim.store.networks, spec.filters, sim.store.network_by_name)
        return JSONResponse(page_a(rows, spec, network_json))

    async def get_network(ctx: Ctx) -> Response:
        return JSONResponse(network_json(network_or_404(ctx.params["networkId"])))

    async def delete_network(ctx: Ctx) -> Response:
        network_id = network_or_404(ctx.params["networkId"]).id
        rid = sim.submit(
            ctx,
            "DeleteWifiNetwork",
            lambda: sim.store.delete_network(network_id),
            obj="wifiNetwork",
        )
        return accepted(rid)

    async def bind_pool(ctx: Ctx) -> Response:
        network_id, pool_id = ctx.params["networkId"], ctx.params["poolId"]
        known(network_id)
        if pool_id not in sim.store.pools and pool_id not in sim.store.pending_ids:
            raise not_found("DPSK service", pool_id)
        rid = sim.submit(
            ctx,
            "ActivateDpskServiceOnWifiNetwork",
            lambda: sim.store.bind_pool(network_id, pool_id),
            obj="dpskService",
        )
        return accepted(rid)

    async def activate(ctx: Ctx) -> Response:
        venue_id, network_id = ctx.params["venueId"], ctx.params["networkId"]
        if venue_id not in sim.store.venues:
            raise not_found("Venue", venue_id)
        known(network_id)
        body = await ctx.model(ActivationBody)
        groups = body.group_ids()
        if not body.isAllApGroups and not groups:
            raise bad_request("apGroups is required when isAllApGroups is false")
        act = Activation(
            venue_id, network_id, body.isAllApGroups, [] if body.isAllApGroups else groups
        )
        rid = sim.submit(
            ctx,
            "ActivateWifiNetworkOnVenue",
            lambda: sim.store.activate(act),
            obj="networkVenue",
            items=max(1, len(groups)),
        )
        return accepted(rid)

    async def deactivate(ctx: Ctx) -> Response:
        venue_id, network_id = ctx.params["venueId"], ctx.params["networkId"]
        if venue_id not in sim.store.venues:
            raise not_found("Venue", venue_id)
        network_or_404(network_id)

        def apply() -> None:
            sim.store.deactivate(venue_id, network_id)

        return accepted(sim.submit(ctx, "DeactivateWifiNetworkOnVenue", apply, obj="networkVenue"))

    async def get_activation(ctx: Ctx) -> Response:
        key = (ctx.params["venueId"], ctx.params["networkId"])
        act = found(sim.store.activations, key, "Network activation")
        return JSONResponse(act.to_json())

    activation = "/venues/{venueId}/wifiNetworks/{networkId}"
    return [
        api_route(sim, "POST", "/wifiNetworks", create_network),
        api_route(sim, "POST", "/wifiNetworks/query", query_networks),
        api_route(sim, "GET", "/wifiNetworks/{networkId}", get_network),
        api_route(sim, "DELETE", "/wifiNetworks/{networkId}", delete_network),
        api_route(sim, "PUT", "/wifiNetworks/{networkId}/dpskServices/{poolId}", bind_pool),
        api_route(sim, "PUT", activation, activate),
        api_route(sim, "DELETE", activation, deactivate),
        api_route(sim, "GET", activation, get_activation),
    ]
