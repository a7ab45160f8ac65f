"""Identity groups, DPSK pools (services) and their passphrases, incl. CSV import."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from workflows.r1.models import Accepted, DpskPool, IdentityGroup, Passphrase, PassphraseRow
from workflows.r1.pagination import collect, iter_spring_query, query_body
from workflows.r1.transport import R1Transport

PASSPHRASE_CSV_COLUMNS: tuple[str, ...] = (
    "username",
    "passphrase",
    "vlanId",
    "expirationDate",
    "numberOfDevices",
)
"""Header row of the passphrase bulk-import CSV (the simulator accepts the same)."""
PASSPHRASE_CSV_FILENAME = "passphrases.csv"


def passphrase_csv(rows: Iterable[PassphraseRow]) -> bytes:
    """Build the import file in memory (UTF-8, header row, empty cells for unset values)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PASSPHRASE_CSV_COLUMNS)
    for row in rows:
        values = {
            "username": row.username,
            "passphrase": row.passphrase.get_secret_value() if row.passphrase else "",
            "vlanId": "" if row.vlan_id is None else str(row.vlan_id),
            "expirationDate": row.expiration_date or "",
            "numberOfDevices": "" if row.number_of_devices is None else str(row.number_of_devices),
        }
        writer.writerow([values[c] for c in PASSPHRASE_CSV_COLUMNS])
    return buf.getvalue().encode("utf-8")


class DpskApi(R1Transport):
    # -- identity groups ---------------------------------------------------------

    async def create_identity_group(self, name: str, *, description: str | None = None) -> Accepted:
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        return await self.write("POST", "/identityGroups", json=body)

    async def iter_identity_groups(
        self, *, search: str | None = None, filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[IdentityGroup]:
        body = query_body(search=search, filters=filters)
        async for raw in iter_spring_query(self, "/identityGroups/query", body,
                                           page_size=page_size):
            yield IdentityGroup.model_validate(raw)

    async def list_identity_groups(self, **kwargs: Any) -> list[IdentityGroup]:
        return await collect(self.iter_identity_groups(**kwargs))

    async def delete_identity_group(self, group_id: str) -> Accepted:
        """Refused while the group still holds DPSK pools."""
        return await self.write(
            "DELETE", "/identityGroups/{groupId}", path={"groupId": group_id}
        )

    # -- DPSK pools ------------------------------------------------------------------

    async def create_dpsk_pool(
        self, identity_group_id: str, name: str, *, passphrase_format: str = "MOST_SECURED",
        passphrase_length: int = 18, expiration_type: str | None = None,
        device_count_limit: int | None = None, extra: Mapping[str, Any] | None = None,
    ) -> Accepted:
        body: dict[str, Any] = {
            "name": name,
            "passphraseFormat": passphrase_format,
            "passphraseLength": passphrase_length,
            **(extra or {}),
        }
        if expiration_type:
            body["expirationType"] = expiration_type
        if device_count_limit is not None:
            body["deviceCountLimit"] = device_count_limit
        return await self.write(
            "POST", "/identityGroups/{groupId}/dpskServices",
            path={"groupId": identity_group_id}, json=body,
        )

    async def iter_dpsk_pools(
        self, *, search: str | None = None, filters: Mapping[str, Any] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[DpskPool]:
        body = query_body(search=search, filters=filters)
        async for raw in iter_spring_query(self, "/dpskServices/query", body,
                                           page_size=page_size):
            yield DpskPool.model_validate(raw)

    async def list_dpsk_pools(self, **kwargs: Any) -> list[DpskPool]:
        return await collect(self.iter_dpsk_pools(**kwargs))

    async def delete_dpsk_pool(self, pool_id: str) -> Accepted:
        """Refused while the pool still has passphrases."""
        return await self.write("DELETE", "/dpskServices/{poolId}", path={"poolId": pool_id})

    # -- passphrases -------------------------------------------------------------------

    async def create_passphrase(
        self, pool_id: str, row: PassphraseRow, *, number_of_passphrases: int | None = None
    ) -> Accepted:
        """No id comes back: re-query the pool and match on username."""
        body: dict[str, Any] = {"username": row.username}
        if row.passphrase is not None:
            body["passphrase"] = row.passphrase.get_secret_value()
        if row.vlan_id is not None:
            body["vlanId"] = row.vlan_id
        if row.expiration_date:
            body["expirationDate"] = row.expiration_date
        if row.number_of_devices is not None:
            body["numberOfDevices"] = row.number_of_devices
        if number_of_passphrases is not None:
            body["numberOfPassphrases"] = number_of_passphrases
        return await self.write(
            "POST", "/dpskServices/{poolId}/passphrases", path={"poolId": pool_id}, json=body
        )

    async def import_passphrases_csv(
        self, pool_id: str, rows: Iterable[PassphraseRow]
    ) -> Accepted:
        """Bulk create: one multipart upload instead of one call per passphrase."""
        files = {"file": (PASSPHRASE_CSV_FILENAME, passphrase_csv(rows), "text/csv")}
        return await self.write(
            "POST", "/dpskServices/{poolId}/passphrases/csvFiles",
            path={"poolId": pool_id}, files=files,
        )

    async def iter_passphrases(
        self, pool_id: str, *, search: str | None = None,
        filters: Mapping[str, Any] | None = None, page_size: int = 500,
    ) -> AsyncIterator[Passphrase]:
        body = query_body(search=search, filters=filters)
        async for raw in iter_spring_query(
            self, "/dpskServices/{poolId}/passphrases/query", body,
            path={"poolId": pool_id}, page_size=page_size, sort=None,
        ):
            yield Passphrase.model_validate(raw)

    async def list_passphrases(self, pool_id: str, **kwargs: Any) -> list[Passphrase]:
        return await collect(self.iter_passphrases(pool_id, **kwargs))

    async def delete_passphrases(self, pool_id: str, passphrase_ids: Sequence[str]) -> Accepted:
        """R1 takes a bare JSON list of ids as the DELETE body."""
        return await self.write(
            "DELETE", "/dpskServices/{poolId}/passphrases", path={"poolId": pool_id},
            json=list(passphrase_ids),
        )
