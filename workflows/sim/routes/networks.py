"""Wi-Fi networks, their venue and per-AP-group activations, DPSK pool bindings.

Shapes follow wifi_api-17.3.3.205 (PskWifiNetwork / DpskWifiNetwork,
VenueWifiNetwork, VenueWifiNetworkApGroupSettings) and the view model's
`/wifiNetworks/query` (DynamicQueryPayloadDto -> rows of WifiNetworkQueryData).
The limits come from the contract (`workflows.r1.contract.limits`), so the
simulator refuses what R1's documents refuse even with the contract guard off.
The query honours the filters R1 honours (`id`, `venueApGroups.venueId`) and,
like R1, silently ignores any other filter key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.r1.contract import limits as L
from workflows.sim.errors import bad_request, found, not_found
from workflows.sim.model import Activation, Network
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

ROW_FIELDS = (
    "id", "name", "description", "ssid", "vlan", "nwSubType", "securityProtocol", "venueApGroups",
)  # fmt: skip
"""WifiNetworkQueryData fields the simulator answers (documented; no secrets)."""
KIND_WLAN = {"psk": L.PSK_WLAN, "dpsk": L.DPSK_WLAN}
KIND_NETWORK = {"psk": L.PSK_NETWORK, "dpsk": L.DPSK_NETWORK}


class WlanBody(BaseModel):
    ssid: str
    wlanSecurity: str = "WPA2Personal"
    passphrase: str | None = None
    saePassphrase: str | None = None
    vlanId: int | None = None
    enabled: bool | None = None


class NetworkCreate(BaseModel):
    name: str
    type: Literal["psk", "dpsk"]
    wlan: WlanBody
    description: str | None = None
    useDpskService: bool | None = None


class VenueActivation(BaseModel):
    isAllApGroups: bool = True


class GroupSettings(BaseModel):
    vlanId: int | None = Field(None, ge=1, le=4094)
    radioTypes: list[Literal["2.4-GHz", "5-GHz", "6-GHz"]] | None = None


class NetworkQuery(BaseModel):
    fields: list[str] | None = None
    searchString: str | None = None
    searchTargetFields: list[str] | None = None
    filters: dict[str, list[str]] = Field(default_factory=dict)
    page: int = 1
    pageSize: int = 10
    sortField: str | None = None
    sortOrder: str = "ASC"


def check_create(body: NetworkCreate) -> None:
    """R1's 400s for a network body, from the documents' limits (no secret echoed)."""
    kind, wlan = body.type, body.wlan
    problems = []
    if not L.fits(KIND_NETWORK[kind], "name", body.name):
        problems.append("name: must be 2-32 characters, no leading/trailing space, no ` or $(")
    if body.description is not None and not L.fits(KIND_NETWORK[kind], "description",
                                                     body.description):  # fmt: skip
        problems.append("description: at most 256 characters")
    if not L.fits(KIND_WLAN[kind], "ssid", wlan.ssid):
        problems.append("wlan.ssid: must be 2-32 characters, no leading/trailing space, no `")
    allowed = L.enum(KIND_WLAN[kind], "wlanSecurity")
    if wlan.wlanSecurity not in allowed:
        problems.append(f"wlan.wlanSecurity: must be one of {', '.join(allowed)}")
    lo, hi = L.bounds(KIND_WLAN[kind], "vlanId")
    if wlan.vlanId is not None and not lo <= wlan.vlanId <= hi:
        problems.append(f"wlan.vlanId: must be {lo}-{hi}")
    if kind == "psk":
        for key in ("passphrase", "saePassphrase"):
            value = getattr(wlan, key)
            if value is not None and not L.fits(L.PSK_WLAN, key, value):
                problems.append(f"wlan.{key}: 8-63 printable characters or 64 hex digits")
        need = {"WPA3": "saePassphrase"}.get(wlan.wlanSecurity, "passphrase")
        if getattr(wlan, need) is None:
            problems.append(f"wlan.{need}: required for {wlan.wlanSecurity}")
    elif body.useDpskService is not True:
        problems.append("useDpskService: a DPSK network must set it to true")
    elif wlan.passphrase is not None or wlan.saePassphrase is not None:
        problems.append("wlan: a DPSK network takes no passphrase")
    if problems:
        raise bad_request("Validation failed: " + "; ".join(problems))


def routes(sim: Simulator) -> list[Route]:
    store = sim.store

    def venue_groups(n: Network) -> list[dict[str, Any]]:
        out = []
        for v in sorted(store.activated_venues.get(n.id, ())):
            act = store.activations[(v, n.id)]
            out.append({"venueId": v, "isAllApGroups": act.isAllApGroups,
                        "apGroupIds": list(act.apGroupIds)})  # fmt: skip
        return out

    def row(n: Network) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": n.id,
            "name": n.name,
            "ssid": n.wlan.get("ssid"),
            "vlan": int(n.wlan.get("vlanId") or 1),
            "nwSubType": n.type,
            "securityProtocol": n.wlan.get("wlanSecurity") or "WPA2Personal",
            "venueApGroups": venue_groups(n),
        }
        if n.description:
            out["description"] = n.description
        return out

    def network_or_404(network_id: str) -> Network:
        return found(store.networks, network_id, "Wi-Fi network")

    def known(network_id: str) -> None:
        if network_id not in store.networks and network_id not in store.pending_ids:
            raise not_found("Wi-Fi network", network_id)

    def venue_known(venue_id: str) -> None:
        if venue_id not in store.venues:
            raise not_found("Venue", venue_id)

    def group_known(venue_id: str, group_id: str) -> None:
        group = store.ap_groups.get(group_id)
        if group_id in store.pending_ids:
            return
        if group is None or group.venueId != venue_id:
            raise not_found("AP group", group_id)

    async def create_network(ctx: Ctx) -> Response:
        body = await ctx.model(NetworkCreate)
        check_create(body)
        wlan = body.wlan.model_dump(exclude_none=True)
        network = Network(sim.new_id(), body.name, body.type, wlan, body.description or "")
        release = sim.reserve(
            "wifiNetworks", "", body.name, body.name in store.network_by_name, network.id
        )
        rid = sim.submit(
            ctx, "AddWifiNetwork", lambda: store.add_network(network), obj="wifiNetwork",
            on_done=release,
        )  # fmt: skip
        return accepted(rid, response={"id": network.id})

    async def query_networks(ctx: Ctx) -> Response:
        spec = await ctx.model(NetworkQuery)
        if spec.page < 1 or not 1 <= spec.pageSize <= MAX_PAGE_SIZE:
            raise bad_request(f"page must be >= 1 and pageSize 1..{MAX_PAGE_SIZE}")
        ids = spec.filters.get("id")
        rows: Any = (
            [store.networks[i] for i in dict.fromkeys(ids) if i in store.networks]
            if ids is not None
            else store.networks.values()
        )
        venues = spec.filters.get("venueApGroups.venueId")
        if venues is not None:
            rows = [n for n in rows if store.activated_venues.get(n.id, set()) & set(venues)]
        if spec.searchString:
            needle = spec.searchString.lower()
            targets = spec.searchTargetFields or ["name", "ssid"]
            rows = [
                n for n in rows
                if any(needle in str(row(n).get(t) or "").lower() for t in targets)
            ]  # fmt: skip
        rows = list(rows)
        if spec.sortField in ROW_FIELDS:
            rows.sort(key=lambda n: str(row(n).get(spec.sortField) or "").lower(),
                      reverse=spec.sortOrder.upper() == "DESC")  # fmt: skip
        start = (spec.page - 1) * spec.pageSize
        keep = set(spec.fields or ROW_FIELDS) & set(ROW_FIELDS) | {"id"}
        data = [
            {k: v for k, v in row(n).items() if k in keep}
            for n in rows[start : start + spec.pageSize]
        ]
        return JSONResponse({"data": data, "totalCount": len(rows), "page": spec.page})

    async def get_network(ctx: Ctx) -> Response:
        n = network_or_404(ctx.params["networkId"])
        wlan = {k: v for k, v in n.wlan.items() if k not in ("passphrase", "saePassphrase")}
        body: dict[str, Any] = {"id": n.id, "name": n.name, "type": n.type, "wlan": wlan}
        if n.description:
            body["description"] = n.description
        if n.type == "dpsk":
            body["useDpskService"] = True
        return JSONResponse(body)

    async def delete_network(ctx: Ctx) -> Response:
        network_id = network_or_404(ctx.params["networkId"]).id
        rid = sim.submit(
            ctx, "DeleteWifiNetwork", lambda: store.delete_network(network_id),
            obj="wifiNetwork",
        )  # fmt: skip
        return accepted(rid)

    async def bind_pool(ctx: Ctx) -> Response:
        network_id, pool_id = ctx.params["networkId"], ctx.params["poolId"]
        known(network_id)
        if pool_id not in store.pools and pool_id not in store.pending_ids:
            raise not_found("DPSK service", pool_id)
        rid = sim.submit(
            ctx, "ActivateDpskServiceOnWifiNetwork",
            lambda: store.bind_pool(network_id, pool_id), obj="dpskService",
        )  # fmt: skip
        return accepted(rid)

    async def activate(ctx: Ctx) -> Response:
        venue_id, network_id = ctx.params["venueId"], ctx.params["networkId"]
        venue_known(venue_id)
        known(network_id)
        body = await ctx.model(VenueActivation)
        act = Activation(venue_id, network_id, body.isAllApGroups, [])
        rid = sim.submit(
            ctx, "ActivateWifiNetworkOnVenue", lambda: store.activate(act), obj="networkVenue",
        )  # fmt: skip
        return accepted(rid)

    async def deactivate(ctx: Ctx) -> Response:
        venue_id, network_id = ctx.params["venueId"], ctx.params["networkId"]
        venue_known(venue_id)
        network_or_404(network_id)

        def apply() -> None:
            store.deactivate(venue_id, network_id)

        return accepted(sim.submit(ctx, "DeactivateWifiNetworkOnVenue", apply, obj="networkVenue"))

    def group_activation(ctx: Ctx, network_check: Any) -> tuple[str, str, str]:
        """The (venue, network, AP group) of a per-group activation route, each checked."""
        venue_id, network_id, group_id = (
            ctx.params[k] for k in ("venueId", "networkId", "apGroupId")
        )
        venue_known(venue_id)
        network_check(network_id)
        group_known(venue_id, group_id)
        return venue_id, network_id, group_id

    async def activate_group(ctx: Ctx) -> Response:
        venue_id, network_id, group_id = group_activation(ctx, known)
        rid = sim.submit(
            ctx, "ActivateApGroupOnWifiNetwork",
            lambda: store.activate_group(venue_id, network_id, group_id), obj="networkApGroup",
        )  # fmt: skip
        return accepted(rid)

    async def deactivate_group(ctx: Ctx) -> Response:
        venue_id, network_id, group_id = group_activation(ctx, network_or_404)
        rid = sim.submit(
            ctx, "DeactivateApGroupOnWifiNetwork",
            lambda: store.deactivate_group(venue_id, network_id, group_id),
            obj="networkApGroup",
        )  # fmt: skip
        return accepted(rid)

    async def put_group_settings(ctx: Ctx) -> Response:
        venue_id, network_id, group_id = group_activation(ctx, known)
        body = await ctx.model(GroupSettings)
        settings = body.model_dump(exclude_none=True)
        rid = sim.submit(
            ctx, "UpdateApGroupSettingsOnWifiNetwork",
            lambda: store.set_group_settings(venue_id, network_id, group_id, settings),
            obj="networkApGroup",
        )  # fmt: skip
        return accepted(rid)

    async def get_group_settings(ctx: Ctx) -> Response:
        key = (ctx.params["venueId"], ctx.params["networkId"])
        act = found(store.activations, key, "Network activation")
        group_id = ctx.params["apGroupId"]
        if not act.isAllApGroups and group_id not in act.apGroupIds:
            raise not_found("AP group activation", group_id)
        return JSONResponse(dict(act.settings.get(group_id, {})))

    activation = "/venues/{venueId}/wifiNetworks/{networkId}"
    group = activation + "/apGroups/{apGroupId}"
    return [
        api_route(sim, "POST", "/wifiNetworks", create_network),
        api_route(sim, "POST", "/wifiNetworks/query", query_networks),
        api_route(sim, "GET", "/wifiNetworks/{networkId}", get_network),
        api_route(sim, "DELETE", "/wifiNetworks/{networkId}", delete_network),
        api_route(sim, "PUT", "/wifiNetworks/{networkId}/dpskServices/{poolId}", bind_pool),
        api_route(sim, "PUT", activation, activate),
        api_route(sim, "DELETE", activation, deactivate),
        api_route(sim, "PUT", group, activate_group),
        api_route(sim, "DELETE", group, deactivate_group),
        api_route(sim, "PUT", group + "/settings", put_group_settings),
        api_route(sim, "GET", group + "/settings", get_group_settings),
    ]
