"""The R1 operations phasegrid calls: which document defines each, and the few
that no cached document has.

The build (`workflows.r1.contract.build`) copies each listed operation's
parameters and schemas from its document. Anything we call that is not listed
here is a contract violation in the tests.
"""

from __future__ import annotations

from typing import Any

WIFI = "wifi_api-17.3.3.205.yaml"
VIEW = "viewmodel_service_api-1.0.42.yaml"
VENUE = "venue_service_api-0.2.8.yaml"
DPSK = "dpsk_service-0.0.3.yaml"
IDENTITY = "identity_management-0.0.2.yaml"
ACTIVITIES = "activities_api-0.0.1.yaml"

OPERATIONS: dict[str, str] = {
    # activities
    "GET /activities/{activityId}": ACTIVITIES,
    "POST /activities/query": ACTIVITIES,
    # venues, APs, AP groups (reads through the view model)
    "GET /venues/{venueId}": VENUE,
    "POST /venues/query": VIEW,
    "POST /venues/aps/query": VIEW,
    "POST /venues/apGroups/query": VIEW,
    "POST /wifiNetworks/query": VIEW,
    # AP groups and APs
    "POST /venues/{venueId}/apGroups": WIFI,
    "GET /venues/{venueId}/apGroups/{apGroupId}": WIFI,
    "DELETE /venues/{venueId}/apGroups/{apGroupId}": WIFI,
    "PUT /venues/{venueId}/apGroups/{apGroupId}/aps/{serialNumber}": WIFI,
    "GET /venues/{venueId}/aps/{serialNumber}": WIFI,
    # Wi-Fi networks and their activation
    "POST /wifiNetworks": WIFI,
    "GET /wifiNetworks/{wifiNetworkId}": WIFI,
    "PUT /wifiNetworks/{wifiNetworkId}": WIFI,
    "DELETE /wifiNetworks/{wifiNetworkId}": WIFI,
    "PUT /wifiNetworks/{wifiNetworkId}/dpskServices/{dpskServiceId}": WIFI,
    "PUT /venues/{venueId}/wifiNetworks/{wifiNetworkId}": WIFI,
    "DELETE /venues/{venueId}/wifiNetworks/{wifiNetworkId}": WIFI,
    "PUT /venues/{venueId}/wifiNetworks/{wifiNetworkId}/apGroups/{apGroupId}": WIFI,
    "DELETE /venues/{venueId}/wifiNetworks/{wifiNetworkId}/apGroups/{apGroupId}": WIFI,
    "GET /venues/{venueId}/wifiNetworks/{wifiNetworkId}/apGroups/{apGroupId}/settings": WIFI,
    "PUT /venues/{venueId}/wifiNetworks/{wifiNetworkId}/apGroups/{apGroupId}/settings": WIFI,
    # AP LAN ports
    "GET /venues/{venueId}/aps/{serialNumber}/lanPortSpecificSettings": WIFI,
    "PUT /venues/{venueId}/aps/{serialNumber}/lanPortSpecificSettings": WIFI,
    "GET /venues/{venueId}/aps/{serialNumber}/lanPorts/{portId}/settings": WIFI,
    "PUT /venues/{venueId}/aps/{serialNumber}/lanPorts/{portId}/settings": WIFI,
    # identity groups and identities
    "POST /identityGroups/query": IDENTITY,
    "GET /identityGroups/{id}": IDENTITY,
    "GET /identityGroups/{groupId}/identities": IDENTITY,
    "POST /identities/query": IDENTITY,
    # DPSK pools and passphrases
    "POST /identityGroups/{identityGroupId}/dpskServices": DPSK,
    "POST /dpskServices/query": DPSK,
    "GET /dpskServices/{poolId}": DPSK,
    "DELETE /dpskServices/{poolId}": DPSK,
    "POST /dpskServices/{poolId}/passphrases": DPSK,
    "DELETE /dpskServices/{poolId}/passphrases": DPSK,
    "POST /dpskServices/{poolId}/passphrases/query": DPSK,
    "POST /dpskServices/{poolId}/passphrases/csvFiles": DPSK,
    "GET /dpskServices/{poolId}/passphrases/{id}": DPSK,
}

MEDIA: dict[str, str] = {
    # v1.1 takes VenueApGroup (serials as strings) and answers the new group's id.
    "POST /venues/{venueId}/apGroups": "application/vnd.ruckus.v1.1+json",
}
"""Operations phasegrid sends under another documented media type than the first JSON one."""

_ACCEPTED = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "requestId": {"type": "string"}},
    "unevaluatedProperties": False,
}

EXTRA_OPERATIONS: dict[str, dict[str, Any]] = {
    # identity_management-0.0.2 lacks the writes on groups and identities. Source:
    # the public rtools2 client (wifientist/rtools2 api/r1api/services/identity.py),
    # which calls them on real tenants: create/delete group, bulk identity delete
    # with a JSON array of ids, each answering 202 {requestId}.
    "POST /identityGroups": {
        "source": "rtools2 identity.py create_identity_group",
        "parameters": {},
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": {"type": "string", "maxLength": 255},
                    },
                    "unevaluatedProperties": False,
                }
            },
        },
        "responses": {"202": {"application/json": _ACCEPTED}},
    },
    "DELETE /identityGroups/{id}": {
        "source": "rtools2 identity.py delete_identity_group",
        "parameters": {"path": {"id": {"required": True, "schema": {"type": "string"}}}},
        "requestBody": None,
        "responses": {"202": {"application/json": _ACCEPTED}},
    },
    "DELETE /identityGroups/{groupId}/identities": {
        "source": "rtools2 identity.py delete_identities_bulk",
        "parameters": {"path": {"groupId": {"required": True, "schema": {"type": "string"}}}},
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            },
        },
        "responses": {"202": {"application/json": _ACCEPTED}},
    },
    # OAuth2 client-credentials token (RUCKUS One developer docs; rtools2 r1_client.py).
    "POST /oauth2/token/{tenantId}": {
        "source": "R1 developer docs: OAuth2 client credentials; rtools2 r1_client.py",
        "parameters": {"path": {"tenantId": {"required": True, "schema": {"type": "string"}}}},
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "type": "object",
                    "required": ["grant_type", "client_id", "client_secret"],
                    "properties": {
                        "grant_type": {"const": "client_credentials"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                    },
                    "unevaluatedProperties": False,
                }
            },
        },
        "responses": {
            "200": {
                "application/json": {
                    "type": "object",
                    "required": ["access_token"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string"},
                        "expires_in": {"type": "integer"},
                    },
                    "unevaluatedProperties": False,
                }
            }
        },
    },
}


# Where a document is looser or stricter than the service it describes, the
# one place we say so. Each entry: (a `$defs` name or "op:METHOD /path", a JSON
# pointer inside it, the schema to put there, why). The build applies them.
def _page_of(schema_name: str) -> dict[str, Any]:
    """A view-model page: what every view-model query answers."""
    return {
        "type": "object",
        "properties": {
            "fields": {"type": "array", "items": {"type": "string"}},
            "totalCount": {"type": "integer"},
            "page": {"type": "integer"},
            "data": {"type": "array", "items": {"$ref": f"#/$defs/{schema_name}"}},
        },
        "unevaluatedProperties": False,
    }


_APS_PAGE = [
    {"$ref": "#/$defs/viewmodel_service_api.QueryResponseApQueryData"},
    {"$ref": "#/$defs/viewmodel_service_api.QueryResponseGroupedApQueryData"},
    {"$ref": "#/$defs/viewmodel_service_api.QueryResponseMeshApQueryData"},
]

CORRECTIONS: list[tuple[str, str, Any, str]] = [
    (
        "activities_api.QueryData",
        "/properties/filters/additionalProperties",
        {},
        "Java Map<String, Object> rendered as {type: object}: R1 takes a list of "
        "values per filter, keyed by an ActivityDto field (e.g. {requestId: [...]}; "
        "the DTO has no `id`).",
    ),
    (
        "op:POST /venues/query",
        "/responses/200/application~1json",
        _page_of("viewmodel_service_api.VenueData"),
        "The document gives one VenueData as the answer; the service answers a page "
        "{fields, totalCount, page, data: [VenueData]} like every view-model query.",
    ),
    (
        "op:POST /wifiNetworks/query",
        "/responses/200/application~1json",
        _page_of("viewmodel_service_api.WifiNetworkQueryData"),
        "As for venues: one WifiNetworkQueryData in the document, a page from the service.",
    ),
    (
        "op:POST /venues/aps/query",
        "/responses/200/application~1json",
        {"anyOf": _APS_PAGE},
        "oneOf over three page shapes that overlap (an empty page, or rows with only "
        "common fields, fit all three): the service answers one of them, so anyOf.",
    ),
    (
        "op:POST /dpskServices/{poolId}/passphrases",
        "/responses/202/application~1json",
        _ACCEPTED,
        "dpsk_service-0.0.3 gives the 202 body as a bare string; the service answers an "
        "OperationResponse {requestId} (later DPSK documents: DPSK_Service_OperationResponse; "
        "rtools2 dpsk.py create_passphrase reads result['requestId'] from the 202).",
    ),
    (
        "op:POST /dpskServices/{poolId}/passphrases/csvFiles",
        "/responses/200/application~1json",
        _ACCEPTED,
        "dpsk_service-0.0.3 gives the 200 body as a bare string; later DPSK documents "
        "answer DPSK_Service_OperationResponse {requestId}: the import is an activity.",
    ),
]

# `WifiNetwork.type` is a discriminator without a mapping; the service's values
# are these (rtools2 constants.WifiNetworkType; our own calls). The build pins
# each subtype's `type` so that a body matches exactly one of them.
DISCRIMINATORS: dict[str, dict[str, str]] = {
    "wifi_api": {
        "PskWifiNetwork": "psk",
        "DpskWifiNetwork": "dpsk",
        "OpenWifiNetwork": "open",
        "AAAWifiNetwork": "aaa",
        "GuestWifiNetwork": "guest",
        "Hotspot20WifiNetwork": "hotspot20",
    }
}
