"""Identity groups, identities, DPSK pools (services) and their passphrases,
incl. CSV import, as dpsk_service-0.0.3 and identity_management-0.0.2 define them.

Each listing pages the way its operation allows, through every page:
- identity groups: `POST /identityGroups/query`, Spring `?page=&size=` (0-based),
  body `{keyword}` -> `{content, totalElements}`;
- identities: `GET /identityGroups/{groupId}/identities?page=&size=` -> a bare array;
- pools and passphrases: body-paged `{page (1-based), pageSize, searchString,
  searchTargetFields}` -> `{data, totalCount}`.
R1's searches are substring searches and it ignores fields it does not know,
so a lookup by name searches and then matches the exact name here (`find_*`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from workflows.r1.errors import R1NotFound
from workflows.r1.models import (
    Accepted,
    DpskPool,
    Identity,
    IdentityGroup,
    Passphrase,
    PassphraseRow,
)
from workflows.r1.pagination import collect, iter_query, iter_spring, iter_spring_query
from workflows.r1.transport import R1Transport

PASSPHRASE_CSV_COLUMNS: tuple[str, ...] = (
    "Username",
    "Passphrase",
    "Number of devices",
    "VLAN ID",
    "Expiration Date",
)
"""Header row of R1's passphrase import template. The documents name no columns
(importDpskPassphrasesFromCsv takes an opaque `file`) and rtools2 sends no real
file; the R1 user guide ("Importing DPSK Passphrases from a CSV File") says the
headers must match the downloaded template exactly and names Username, Number
of devices and MAC Address; the other names follow the UI's field labels."""
PASSPHRASE_CSV_FILENAME = "passphrases.csv"
PASSPHRASE_FILTERS = frozenset(
    {"networkId", "vlanId", "passphrase", "mac", "username", "email", "phoneNumber", "status"}
)
"""dpsk_service DpskPassphraseFilters: each a list of exact values."""
PAGE_SIZE = 100
"""Items per page of every listing here (R1 pages these services at 100 or less)."""


def passphrase_csv(rows: Iterable[PassphraseRow]) -> bytes:
    """Build the import file in memory (UTF-8, header row, empty cells for unset values)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PASSPHRASE_CSV_COLUMNS)
    for row in rows:
        values = {
            "Username": row.username,
            "Passphrase": row.passphrase.get_secret_value() if row.passphrase else "",
            "VLAN ID": "" if row.vlan_id is None else str(row.vlan_id),
            "Expiration Date": row.expiration_date or "",
            "Number of devices": "" if row.number_of_devices is None
            else str(row.number_of_devices),
        }  # fmt: skip
        writer.writerow([values[c] for c in PASSPHRASE_CSV_COLUMNS])
    return buf.getvalue().encode("utf-8")


def _datetime(value: str) -> str:
    """DpskPassphraseCreateDto.expirationDate is a date-time: a bare date is its midnight UTC."""
    return f"{value}T00:00:00Z" if len(value) == 10 else value


async def _resolve(
    filters: Mapping[str, Any],
    get: Callable[[str], Awaitable[Any]],
    find: Callable[[str], Awaitable[Any]],
) -> AsyncIterator[Any]:
    """Items by id (one GET each) or by exact name (search, then match)."""
    unknown = set(filters) - {"id", "name"}
    if unknown:
        raise ValueError(f"no such filter on this operation: {sorted(unknown)}")
    for key, lookup in (("id", get), ("name", find)):
        values = filters.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            item = await lookup(str(value))
            if item is not None:
                yield item


async def _exact(items: AsyncIterator[Any], name: str, attr: str = "name") -> Any:
    """The item whose `attr` is exactly `name` (the search matched substrings)."""
    async for item in items:
        if getattr(item, attr) == name:
            return item
    return None


class DpskApi(R1Transport):
    page_size: int = PAGE_SIZE

    # -- identity groups ---------------------------------------------------------

    async def create_identity_group(self, name: str, *, description: str | None = None) -> Accepted:
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        return await self.write("POST", "/identityGroups", json=body)

    async def iter_identity_groups(
        self,
        *,
        keyword: str | None = None,
        group_ids: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[IdentityGroup]:
        """`keyword` is R1's substring search on the name; see `find_identity_group`.
        `filters` ({id: [...]} / {name: [...]}) is resolved here, never sent."""
        if filters:
            async for group in _resolve(filters, self.get_identity_group,
                                        self.find_identity_group):  # fmt: skip
                yield group
            return
        body: dict[str, Any] = {}
        if keyword:
            body["keyword"] = keyword
        if group_ids:
            body["groupIds"] = list(group_ids)
        async for raw in iter_spring_query(
            self, "/identityGroups/query", body, page_size=page_size or self.page_size
        ):
            yield IdentityGroup.model_validate(raw)

    async def list_identity_groups(self, **kwargs: Any) -> list[IdentityGroup]:
        return await collect(self.iter_identity_groups(**kwargs))

    async def find_identity_group(self, name: str) -> IdentityGroup | None:
        """The group named exactly `name` (never one that merely contains it)."""
        return await _exact(self.iter_identity_groups(keyword=name), name)

    async def get_identity_group(self, group_id: str) -> IdentityGroup | None:
        try:
            raw = await self.send_json("GET", "/identityGroups/{id}", path={"id": group_id})
        except R1NotFound:
            return None
        return IdentityGroup.model_validate(raw) if isinstance(raw, dict) else None

    async def delete_identity_group(self, group_id: str) -> Accepted:
        """Refused while the group still holds a DPSK pool or identities."""
        return await self.write("DELETE", "/identityGroups/{id}", path={"id": group_id})

    # -- identities (one per DPSK passphrase) -------------------------------------

    async def iter_identities(
        self, group_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[Identity]:
        async for raw in iter_spring(self, "/identityGroups/{groupId}/identities",
                                     path={"groupId": group_id}, sort=None,
                                     page_size=page_size or self.page_size):  # fmt: skip
            yield Identity.model_validate(raw)

    async def list_identities(self, group_id: str, **kwargs: Any) -> list[Identity]:
        return await collect(self.iter_identities(group_id, **kwargs))

    async def delete_identities(self, group_id: str, identity_ids: Sequence[str]) -> Accepted:
        """R1 takes a JSON array of identity ids as the DELETE body."""
        return await self.write(
            "DELETE",
            "/identityGroups/{groupId}/identities",
            path={"groupId": group_id},
            json=list(identity_ids),
        )

    # -- DPSK pools ------------------------------------------------------------------

    async def create_dpsk_pool(
        self,
        identity_group_id: str,
        name: str,
        *,
        passphrase_format: str = "MOST_SECURED",
        passphrase_length: int = 18,
        expiration_type: str | None = None,
        device_count_limit: int | None = None,
    ) -> Accepted:
        """DpskPoolDto: name, passphraseFormat and passphraseLength are required."""
        body: dict[str, Any] = {
            "name": name,
            "passphraseFormat": passphrase_format,
            "passphraseLength": passphrase_length,
        }
        if expiration_type:
            body["expirationType"] = expiration_type
        if device_count_limit is not None:
            body["deviceCountLimit"] = device_count_limit
        return await self.write(
            "POST",
            "/identityGroups/{identityGroupId}/dpskServices",
            path={"identityGroupId": identity_group_id},
            json=body,
        )

    async def iter_dpsk_pools(
        self,
        *,
        search: str | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[DpskPool]:
        """`search` is R1's substring search on the name; see `find_dpsk_pool`.
        `filters` ({id: [...]} / {name: [...]}) is resolved here, never sent:
        DpskPoolFilters has neither."""
        if filters:
            async for pool in _resolve(filters, self.get_dpsk_pool, self.find_dpsk_pool):
                yield pool
            return
        body: dict[str, Any] = {"sortField": "name", "sortOrder": "ASC"}
        if search:
            body |= {"searchString": search, "searchTargetFields": ["name"]}
        async for raw in iter_query(
            self, "/dpskServices/query", body, page_size=page_size or self.page_size
        ):
            yield DpskPool.model_validate(raw)

    async def list_dpsk_pools(self, **kwargs: Any) -> list[DpskPool]:
        return await collect(self.iter_dpsk_pools(**kwargs))

    async def find_dpsk_pool(self, name: str) -> DpskPool | None:
        """The pool named exactly `name` (never one that merely contains it)."""
        return await _exact(self.iter_dpsk_pools(search=name), name)

    async def get_dpsk_pool(self, pool_id: str) -> DpskPool | None:
        try:
            raw = await self.send_json("GET", "/dpskServices/{poolId}", path={"poolId": pool_id})
        except R1NotFound:
            return None
        return DpskPool.model_validate(raw) if isinstance(raw, dict) else None

    async def delete_dpsk_pool(self, pool_id: str) -> Accepted:
        """Refused while the pool still has passphrases."""
        return await self.write("DELETE", "/dpskServices/{poolId}", path={"poolId": pool_id})

    # -- passphrases -------------------------------------------------------------------

    async def create_passphrase(
        self, pool_id: str, row: PassphraseRow, *, number_of_passphrases: int | None = None
    ) -> Accepted:
        """DpskPassphraseCreateDto. No id comes back: re-query the pool, match on username."""
        body: dict[str, Any] = {"username": row.username}
        if row.passphrase is not None:
            body["passphrase"] = row.passphrase.get_secret_value()
        if row.vlan_id is not None:
            body["vlanId"] = row.vlan_id
        if row.expiration_date:
            body["expirationDate"] = _datetime(row.expiration_date)
        if row.number_of_devices is not None:
            body["numberOfDevices"] = row.number_of_devices
        if number_of_passphrases is not None:
            body["numberOfPassphrases"] = number_of_passphrases
        return await self.write(
            "POST", "/dpskServices/{poolId}/passphrases", path={"poolId": pool_id}, json=body
        )

    async def import_passphrases_csv(self, pool_id: str, rows: Iterable[PassphraseRow]) -> Accepted:
        """Bulk create: one multipart upload of R1's template instead of one call each."""
        files = {"file": (PASSPHRASE_CSV_FILENAME, passphrase_csv(rows), "text/csv")}
        return await self.write(
            "POST",
            "/dpskServices/{poolId}/passphrases/csvFiles",
            path={"poolId": pool_id},
            files=files,
        )

    async def iter_passphrases(
        self,
        pool_id: str,
        *,
        search: str | None = None,
        filters: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Passphrase]:
        """`search`: R1's substring search on the username; `filters`: exact values
        of the DpskPassphraseFilters fields (e.g. `{"username": [...]}`)."""
        body: dict[str, Any] = {}
        if search:
            body |= {"searchString": search, "searchTargetFields": ["username"]}
        if filters:
            unknown = set(filters) - PASSPHRASE_FILTERS
            if unknown:  # R1 would ignore them and answer the whole pool
                raise ValueError(f"not a DpskPassphraseFilters field: {sorted(unknown)}")
            body["filters"] = {k: v if isinstance(v, list) else [v] for k, v in filters.items()}
        async for raw in iter_query(
            self,
            "/dpskServices/{poolId}/passphrases/query",
            body,
            path={"poolId": pool_id},
            page_size=page_size or self.page_size,
        ):
            yield Passphrase.model_validate(raw)

    async def list_passphrases(self, pool_id: str, **kwargs: Any) -> list[Passphrase]:
        return await collect(self.iter_passphrases(pool_id, **kwargs))

    async def delete_passphrases(self, pool_id: str, passphrase_ids: Sequence[str]) -> Accepted:
        """R1 takes a bare JSON list of ids as the DELETE body."""
        return await self.write(
            "DELETE",
            "/dpskServices/{poolId}/passphrases",
            path={"poolId": pool_id},
            json=list(passphrase_ids),
        )
