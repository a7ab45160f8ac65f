"""Wi-Fi networks: create/query/delete, DPSK pool binding, venue activation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Literal

from pydantic import SecretStr

from workflows.r1.models import Accepted, WifiNetwork, WlanSecurity
from workflows.r1.pagination import collect, iter_query, query_body
from workflows.r1.transport import R1Transport

SECURITY_BY_INPUT: dict[str, WlanSecurity] = {
    "WPA2": "WPA2Personal",
    "WPA3": "WPA3Personal",
    "WPA2/WPA3": "WPA23Mixed",
    "WPA23": "WPA23Mixed",
}
"""The per-unit CSV's `security_type` -> R1's `wlanSecurity`."""


def _reveal(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class NetworksApi(R1Transport):
    async def create_wifi_network(
        self, name: str, ssid: str, *, network_type: Literal["psk", "dpsk"] = "psk",
        security: WlanSecurity = "WPA2Personal", passphrase: str | SecretStr | None = None,
        vlan_id: int | None = None, extra_wlan: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> Accepted:
        """The new id comes back as `response.id`; a PSK network needs a passphrase."""
        wlan: dict[str, Any] = {"ssid": ssid, "wlanSecurity": security, **(extra_wlan or {})}
        if vlan_id is not None:
            wlan["vlanId"] = vlan_id
        secret = _reveal(passphrase)
        if secret is not None:
            wlan["passphrase"] = secret
            if security in ("WPA3Personal", "WPA23Mixed"):
                wlan.setdefault("saePassphrase", secret)
        body: dict[str, Any] = {"name": name, "type": network_type, "wlan": wlan}
        if description:
            body["description"] = description
        return await self.write("POST", "/wifiNetworks", json=body)

    async def iter_wifi_networks(
        self, *, search: str | None = None, filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[WifiNetwork]:
        body = query_body(search=search, filters=filters)
        async for raw in iter_query(self, "/wifiNetworks/query", body, page_size=page_size):
            yield WifiNetwork.model_validate(raw)

    async def list_wifi_networks(self, **kwargs: Any) -> list[WifiNetwork]:
        return await collect(self.iter_wifi_networks(**kwargs))

    async def delete_wifi_network(self, network_id: str) -> Accepted:
        """Refused while the network is still activated on a venue."""
        return await self.write(
            "DELETE", "/wifiNetworks/{networkId}", path={"networkId": network_id}
        )

    async def bind_dpsk_pool(self, network_id: str, pool_id: str) -> Accepted:
        """A pool serves at most 64 networks; over it the call or activity fails."""
        return await self.write(
            "PUT", "/wifiNetworks/{networkId}/dpskServices/{poolId}",
            path={"networkId": network_id, "poolId": pool_id},
        )

    async def activate_network(
        self, venue_id: str, network_id: str, *, ap_group_ids: Iterable[str] | None = None,
        radio_types: Iterable[str] | None = None,
    ) -> Accepted:
        """Venue-wide when `ap_group_ids` is None, else only on those AP groups.

        Each AP group broadcasts at most 15 SSIDs; venue-wide activation counts
        against every group's budget.
        """
        body: dict[str, Any] = {
            "venueId": venue_id,
            "networkId": network_id,
            "isAllApGroups": ap_group_ids is None,
            "scheduler": {"type": "ALWAYS_ON"},
        }
        if ap_group_ids is not None:
            radios = list(radio_types or [])
            body["apGroups"] = [
                {"apGroupId": gid, **({"radioTypes": radios} if radios else {})}
                for gid in ap_group_ids
            ]
        return await self.write(
            "PUT", "/venues/{venueId}/wifiNetworks/{networkId}",
            path={"venueId": venue_id, "networkId": network_id}, json=body,
        )

    async def deactivate_network(self, venue_id: str, network_id: str) -> Accepted:
        return await self.write(
            "DELETE", "/venues/{venueId}/wifiNetworks/{networkId}",
            path={"venueId": venue_id, "networkId": network_id},
        )
