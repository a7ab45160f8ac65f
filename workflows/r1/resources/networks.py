"""Wi-Fi networks: create/query/delete, DPSK pool binding, venue and AP-group activation.

Bodies carry only what wifi_api-17.3.3.205 defines (PskWifiNetwork /
DpskWifiNetwork, VenueWifiNetwork, VenueWifiNetworkApGroupSettings); reads ask
`/wifiNetworks/query` (viewmodel DynamicQueryPayloadDto) for documented
fields. R1 silently ignores a filter key it does not know, which would turn a
lookup into "the first network of the tenant": the only filters sent are `id`
and `venueApGroups.venueId` (what rtools2 uses on real tenants); a name is
looked up with `searchString` and matched exactly here, over every page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Literal

from pydantic import SecretStr

from workflows.r1.models import Accepted, WifiNetwork, WlanSecurity
from workflows.r1.pagination import collect, iter_query, query_body
from workflows.r1.transport import R1Transport

SECURITY_BY_INPUT: dict[str, WlanSecurity] = {
    "WPA2": "WPA2Personal",
    "WPA3": "WPA3",
    "WPA2/WPA3": "WPA23Mixed",
    "WPA23": "WPA23Mixed",
}
"""The per-unit CSV's `security_type` -> R1's `wlanSecurity` (PskWifiWlan enum)."""

SAE_SECURITIES = ("WPA3", "WPA23Mixed")
"""Securities whose WLAN carries `saePassphrase` (WPA3: only it; mixed: both)."""

NETWORK_FIELDS = [
    "id", "name", "description", "ssid", "vlan", "nwType", "nwSubType",
    "securityProtocol", "venueApGroups",
]  # fmt: skip
"""WifiNetworkQueryData fields the workflows read."""

NETWORK_FILTERS = frozenset({"id", "venueApGroups.venueId"})
"""Filter keys R1 honours on `/wifiNetworks/query` (others are silently ignored)."""


def _reveal(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def network_body(
    name: str,
    ssid: str,
    *,
    network_type: Literal["psk", "dpsk"],
    security: WlanSecurity,
    passphrase: str | SecretStr | None,
    vlan_id: int | None,
    description: str | None,
) -> dict[str, Any]:
    """A PskWifiNetwork or DpskWifiNetwork body (the DPSK one with `useDpskService`)."""
    wlan: dict[str, Any] = {"ssid": ssid, "wlanSecurity": security}
    if vlan_id is not None:
        wlan["vlanId"] = vlan_id
    secret = _reveal(passphrase)
    if network_type == "psk" and secret is not None:
        if security != "WPA3":
            wlan["passphrase"] = secret
        if security in SAE_SECURITIES:
            wlan["saePassphrase"] = secret
    body: dict[str, Any] = {"type": network_type, "name": name, "wlan": wlan}
    if network_type == "dpsk":
        body["useDpskService"] = True
    if description:
        body["description"] = description
    return body


class NetworksApi(R1Transport):
    async def create_wifi_network(
        self,
        name: str,
        ssid: str,
        *,
        network_type: Literal["psk", "dpsk"] = "psk",
        security: WlanSecurity = "WPA2Personal",
        passphrase: str | SecretStr | None = None,
        vlan_id: int | None = None,
        description: str | None = None,
    ) -> Accepted:
        """The new id comes back as `response.id` (EntityIdOperationResponse)."""
        body = network_body(
            name,
            ssid,
            network_type=network_type,
            security=security,
            passphrase=passphrase,
            vlan_id=vlan_id,
            description=description,
        )
        return await self.write("POST", "/wifiNetworks", json=body)

    async def iter_wifi_networks(
        self,
        *,
        search: str | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[WifiNetwork]:
        """Every network matching; a `name` filter becomes a search plus an exact match."""
        flt = dict(filters or {})
        names = flt.pop("name", None)
        unknown = set(flt) - NETWORK_FILTERS
        if unknown:
            raise ValueError(f"R1 ignores these /wifiNetworks/query filters: {sorted(unknown)}")
        wanted: set[str] | None = None
        if names is not None:
            wanted = {str(n) for n in (names if isinstance(names, list) else [names])}
            if len(wanted) == 1 and search is None:
                search = next(iter(wanted))
        body = query_body(search=search, filters=flt, fields=NETWORK_FIELDS)
        if search:
            body["searchTargetFields"] = ["name"]
        async for raw in iter_query(self, "/wifiNetworks/query", body, page_size=page_size):
            net = WifiNetwork.model_validate(raw)
            if wanted is None or net.name in wanted:
                yield net

    async def list_wifi_networks(self, **kwargs: Any) -> list[WifiNetwork]:
        return await collect(self.iter_wifi_networks(**kwargs))

    async def find_wifi_network(self, name: str) -> WifiNetwork | None:
        """The network named exactly `name` (names are unique per tenant)."""
        async for net in self.iter_wifi_networks(filters={"name": [name]}):
            return net
        return None

    async def delete_wifi_network(self, network_id: str) -> Accepted:
        """Refused while the network is still activated on a venue."""
        return await self.write(
            "DELETE", "/wifiNetworks/{networkId}", path={"networkId": network_id}
        )

    async def bind_dpsk_pool(self, network_id: str, pool_id: str) -> Accepted:
        """A pool serves at most 64 networks; over it the call or activity fails."""
        return await self.write(
            "PUT",
            "/wifiNetworks/{networkId}/dpskServices/{poolId}",
            path={"networkId": network_id, "poolId": pool_id},
        )

    async def activate_on_venue(
        self, venue_id: str, network_id: str, *, all_ap_groups: bool = True
    ) -> Accepted:
        """The network-venue relation (VenueWifiNetwork: only `isAllApGroups`).

        With `all_ap_groups=False` nothing broadcasts until an AP group is
        activated (`activate_on_ap_group`).
        """
        return await self.write(
            "PUT",
            "/venues/{venueId}/wifiNetworks/{networkId}",
            path={"venueId": venue_id, "networkId": network_id},
            json={"isAllApGroups": all_ap_groups},
        )

    async def activate_on_ap_group(self, venue_id: str, network_id: str, group_id: str) -> Accepted:
        """Broadcast on one AP group (no body); each group carries at most 15 SSIDs."""
        return await self.write(
            "PUT",
            "/venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}",
            path={"venueId": venue_id, "networkId": network_id, "apGroupId": group_id},
        )

    async def set_ap_group_settings(
        self,
        venue_id: str,
        network_id: str,
        group_id: str,
        *,
        vlan_id: int | None = None,
        radio_types: Iterable[str] | None = None,
    ) -> Accepted:
        """Per-group VLAN/radios of an activated AP group (VenueWifiNetworkApGroupSettings)."""
        body: dict[str, Any] = {}
        if vlan_id is not None:
            body["vlanId"] = vlan_id
        if radio_types is not None:
            body["radioTypes"] = list(radio_types)
        return await self.write(
            "PUT",
            "/venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}/settings",
            path={"venueId": venue_id, "networkId": network_id, "apGroupId": group_id},
            json=body,
        )

    async def deactivate_on_ap_group(
        self, venue_id: str, network_id: str, group_id: str
    ) -> Accepted:
        return await self.write(
            "DELETE",
            "/venues/{venueId}/wifiNetworks/{networkId}/apGroups/{apGroupId}",
            path={"venueId": venue_id, "networkId": network_id, "apGroupId": group_id},
        )

    async def activate_network(
        self,
        venue_id: str,
        network_id: str,
        *,
        ap_group_ids: Iterable[str] | None = None,
    ) -> Accepted:
        """Venue-wide when `ap_group_ids` is None; else make the network broadcast on
        exactly those AP groups of a venue it is already related to per group:
        one DELETE per group to drop and one PUT per group to add, each group
        independent of the others. Only the last answer is returned (callers
        use it to drop one group); a network not yet on the venue per group
        needs `activate_on_venue(all_ap_groups=False)` waited for first.
        """
        if ap_group_ids is None:
            return await self.activate_on_venue(venue_id, network_id, all_ap_groups=True)
        wanted = list(dict.fromkeys(ap_group_ids))
        net = await self.find_by_id(network_id)
        entry = next(
            (va for va in (net.model_extra or {}).get("venueApGroups") or []
             if va.get("venueId") == venue_id),
            None,
        ) if net is not None else None  # fmt: skip
        if entry is None or entry.get("isAllApGroups"):
            raise ValueError("the network is not activated per AP group on this venue")
        current = set(entry.get("apGroupIds") or [])
        accepted = Accepted(status_code=200)
        for gid in sorted(current - set(wanted)):
            accepted = await self.deactivate_on_ap_group(venue_id, network_id, gid)
        for gid in wanted:
            if gid not in current:
                accepted = await self.activate_on_ap_group(venue_id, network_id, gid)
        return accepted

    async def find_by_id(self, network_id: str) -> WifiNetwork | None:
        async for net in self.iter_wifi_networks(filters={"id": [network_id]}):
            return net
        return None

    async def deactivate_network(self, venue_id: str, network_id: str) -> Accepted:
        return await self.write(
            "DELETE",
            "/venues/{venueId}/wifiNetworks/{networkId}",
            path={"venueId": venue_id, "networkId": network_id},
        )
