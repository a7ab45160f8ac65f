"""DPSK passphrases: create (DpskPassphraseCreateDto), CSV bulk import,
body-paged query, bulk delete. Each passphrase gets an identity in the pool's
identity group (see `Store.add_passphrases`).

CSV import (`POST /dpskServices/{poolId}/passphrases/csvFiles`, multipart
field `file`, UTF-8, answers 200 `{requestId}`) takes R1's template header
row (`CSV_TEMPLATE`); the documents give no column names, the R1 user guide
("Importing DPSK Passphrases from a CSV File") says header names must match
the downloaded template exactly, so any other header is a 400. Every column
is optional; a blank passphrase is generated from the pool's format and
length; `VLAN ID` is 1-4094, `Expiration Date` an ISO date or date-time,
`Number of devices` 1-512. The whole file is one activity and all-or-nothing:
a bad row or a passphrase already in the pool FAILs the activity (sub-errors
name the rows) and creates nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflows.sim.errors import ActivityFailure, SubError, bad_request, found
from workflows.sim.model import DpskPool, Passphrase
from workflows.sim.pipeline import Ctx, accepted, api_route
from workflows.sim.query import page_b, page_body

if TYPE_CHECKING:
    from workflows.sim.simulator import Simulator

MAX_BATCH = 50_000
ALPHABETS = {
    "NUMBERS_ONLY": "0123456789",
    "KEYBOARD_FRIENDLY": "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY345679",
    "MOST_SECURED": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*-_=+",
}
CSV_TEMPLATE = {
    "Username": "username",
    "Passphrase": "passphrase",
    "Number of devices": "numberOfDevices",
    "MAC Address": "mac",
    "VLAN ID": "vlanId",
    "Expiration Date": "expirationDate",
}
"""R1's import template header -> DpskPassphraseCreateDto field (the client
builds its file from the same names: `workflows.r1.resources.dpsk`)."""
PASSPHRASE_FILTERS = {
    "username": "username",
    "passphrase": "passphrase",
    "vlanId": "vlanId",
}
"""DpskPassphraseFilters the simulator models; the others are ignored."""


class PassphraseIn(BaseModel):
    username: str | None = Field(None, max_length=255)
    passphrase: str | None = Field(None, min_length=8, max_length=63)
    vlanId: int | None = Field(None, ge=1, le=4094)
    expirationDate: str | None = None
    numberOfDevices: int | None = Field(None, ge=1, le=512)
    numberOfPassphrases: int = Field(1, ge=1, le=5000)
    mac: str | None = None

    @field_validator("expirationDate")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value:
            try:
                date.fromisoformat(value[:10])
                if len(value) > 10:
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("expirationDate must be an ISO date or datetime") from None
        return value

    @model_validator(mode="after")
    def _one_explicit(self) -> PassphraseIn:
        if self.passphrase and self.numberOfPassphrases != 1:
            raise ValueError("numberOfPassphrases must be 1 when passphrase is given")
        return self


def _ids_from(body: Any) -> list[str]:
    if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
        raise bad_request("Expected a JSON array of passphrase ids")
    return body


def _csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        raise bad_request("CSV file is empty")
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in CSV_TEMPLATE]
    if unknown:
        raise bad_request(f"CSV header {unknown[0]!r} is not a column of the import template")
    keys = [CSV_TEMPLATE[h] for h in header]
    rows = [
        {k: v.strip() for k, v in zip(keys, row, strict=False) if k and v.strip()}
        for row in reader
        if any(c.strip() for c in row)
    ]
    if len(rows) > MAX_BATCH:
        raise bad_request(f"At most {MAX_BATCH} rows per file")
    return rows


def routes(sim: Simulator) -> list[Route]:
    def pool_or_404(pool_id: str) -> DpskPool:
        return found(sim.store.pools, pool_id, "DPSK service")

    def generate(pool: DpskPool) -> str:
        alphabet = ALPHABETS.get(pool.passphraseFormat, ALPHABETS["MOST_SECURED"])
        rng = sim.rng_data
        return "".join(rng.choice(alphabet) for _ in range(pool.passphraseLength))

    def build(pool: DpskPool, items: list[PassphraseIn]) -> list[Passphrase]:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        out: list[Passphrase] = []
        for item in items:
            for _ in range(item.numberOfPassphrases):
                value = item.passphrase or generate(pool)
                out.append(
                    Passphrase(
                        sim.new_uuid(),
                        item.username or "",
                        value,
                        item.vlanId,
                        item.expirationDate,
                        item.numberOfDevices,
                        created,
                    )
                )
        return out

    def submit(ctx: Ctx, pool: DpskPool, items: list[Passphrase], use_case: str) -> str:
        pending = sim.store.pending_names
        keys = [("passphrases", pool.id, p.passphrase) for p in items]
        for key, p in zip(keys, items, strict=True):
            if p.passphrase in pool.by_value or pending[key]:
                sim.stats_counters.duplicate("passphrases")
            pending[key] += 1

        def release() -> None:
            for key in keys:
                pending[key] -= 1
                if pending[key] <= 0:
                    del pending[key]

        pool_id = pool.id
        return sim.submit(
            ctx,
            use_case,
            lambda: sim.store.add_passphrases(pool_id, items),
            obj="passphrase",
            items=len(items),
            on_done=release,
        )

    async def create(ctx: Ctx) -> Response:
        pool = pool_or_404(ctx.params["poolId"])
        body = await ctx.body_json()
        if not isinstance(body, dict):
            raise bad_request("Expected a DpskPassphraseCreateDto object")
        try:
            items = [PassphraseIn.model_validate(body)]
        except ValidationError as exc:
            raise bad_request(f"Validation failed: {exc.errors()[0]['msg']}") from None
        if sum(i.numberOfPassphrases for i in items) > MAX_BATCH:
            raise bad_request(f"At most {MAX_BATCH} passphrases per request")
        return accepted(submit(ctx, pool, build(pool, items), "AddDpskPassphrases"))

    async def import_csv(ctx: Ctx) -> Response:
        pool = pool_or_404(ctx.params["poolId"])
        form = await ctx.request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise bad_request("multipart field 'file' is required")
        text = (await upload.read()).decode("utf-8-sig", "replace")
        rows = _csv_rows(text)
        items: list[PassphraseIn] = []
        errors: list[SubError] = []
        for line, row in enumerate(rows, start=2):
            try:
                items.append(PassphraseIn.model_validate(row))
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or None
                errors.append(SubError("passphrase", field, f"row {line}: {err['msg']}"))
        if errors:
            failure = ActivityFailure(errors[:50])

            def fail() -> None:
                raise failure

            rid = sim.submit(ctx, "ImportDpskPassphrases", fail, obj="passphrase")
        else:
            rid = submit(ctx, pool, build(pool, items), "ImportDpskPassphrases")
        return JSONResponse({"requestId": rid})  # the document: 200, not 202

    async def query(ctx: Ctx) -> Response:
        pool = pool_or_404(ctx.params["poolId"])
        body = await ctx.body_json()
        body = body if isinstance(body, dict) else {}
        rows: Any = pool.passphrases.values()
        wanted = (body.get("filters") or {}).get("passphrase")
        if isinstance(wanted, list):  # the value index: no scan of a big pool
            ids = (pool.by_value.get(str(w)) for w in wanted)
            rows = [pool.passphrases[i] for i in ids if i is not None]
        return JSONResponse(
            page_body(
                rows, body, lambda p: p.to_json(), filters=PASSPHRASE_FILTERS, search=("username",)
            )
        )

    async def listing(ctx: Ctx) -> Response:
        """`GET .../passphrases`: the Spring-paged listing the document also has."""
        pool = pool_or_404(ctx.params["poolId"])
        return JSONResponse(
            page_b(
                pool.passphrases.values(), dict(ctx.request.query_params), {}, lambda p: p.to_json()
            )
        )

    async def get_one(ctx: Ctx) -> Response:
        pool = pool_or_404(ctx.params["poolId"])
        phrase = found(pool.passphrases, ctx.params["passphraseId"], "Passphrase")
        return JSONResponse(phrase.to_json())

    async def delete(ctx: Ctx) -> Response:
        pool_id = pool_or_404(ctx.params["poolId"]).id
        ids = _ids_from(await ctx.body_json())
        rid = sim.submit(
            ctx,
            "DeleteDpskPassphrases",
            lambda: sim.store.delete_passphrases(pool_id, ids),
            obj="passphrase",
            items=len(ids),
        )
        return accepted(rid)

    base = "/dpskServices/{poolId}/passphrases"
    return [
        api_route(sim, "POST", base, create),
        api_route(sim, "GET", base, listing),
        api_route(sim, "DELETE", base, delete),
        api_route(sim, "POST", base + "/csvFiles", import_csv),
        api_route(sim, "POST", base + "/query", query),
        api_route(sim, "GET", base + "/{passphraseId}", get_one),
    ]
