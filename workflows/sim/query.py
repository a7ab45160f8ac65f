"""R1's two query conventions, over any iterable of resource objects.

Style A (`POST .../query`): body `{fields, searchString, searchTargetFields,
filters: {field: [values]}, page (1-based), pageSize, sortField, sortOrder}`
-> `{data, totalCount, page}`; `fields` projects the rows (ids always kept).

Style B (Spring, identity groups and identities): `page` (0-based), `size`
and `sort=name,asc` from the query string only; the body searches (`keyword`)
-> `{content, totalElements, totalPages, size, number, ...}`.

The DPSK service pages in the body (`page_body`): pools and passphrases.

Filtering reads attributes, so only the returned page is serialised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from workflows.sim.errors import bad_request

MAX_PAGE_SIZE = 10_000
ALIASES = {"ssid": "wlan.ssid", "vlanId": "vlanId", "identityId": "identityGroupId"}


class QuerySpec(BaseModel):
    fields: list[str] | None = None
    searchString: str | None = None
    searchTargetFields: list[str] | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    page: int = 1
    pageSize: int = 25
    sortField: str | None = None
    sortOrder: str = "ASC"


def get_field(obj: Any, name: str) -> Any:
    name = ALIASES.get(name, name)
    value: Any = obj
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def _matches(
    obj: Any, filters: dict[str, list[str]], search: str | None, targets: list[str]
) -> bool:
    for field, wanted in filters.items():
        value = get_field(obj, field)
        if isinstance(value, (set, list)):
            if not any(str(v) in wanted for v in value):
                return False
        elif _norm(value) not in wanted:
            return False
    if search:
        return any(search in str(get_field(obj, t) or "").lower() for t in targets)
    return True


def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _normalise_filters(filters: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, values in (filters or {}).items():
        seq = values if isinstance(values, list) else [values]
        out[field] = [_norm(v) for v in seq]
    return out


def select(
    items: Iterable[Any],
    *,
    filters: dict[str, Any] | None = None,
    search: str | None = None,
    targets: list[str] | None = None,
    sort_field: str | None = None,
    descending: bool = False,
) -> list[Any]:
    norm = _normalise_filters(filters or {})
    needle = search.lower() if search else None
    if norm or needle:
        rows = [o for o in items if _matches(o, norm, needle, targets or ["name"])]
    else:
        rows = list(items)
    if sort_field:
        rows.sort(key=lambda o: _norm(get_field(o, sort_field)).lower(), reverse=descending)
    return rows


def page_a(
    items: Iterable[Any],
    spec: QuerySpec,
    to_json: Callable[[Any], dict[str, Any]],
    id_keys: tuple[str, ...] = ("id",),
) -> dict[str, Any]:
    if spec.page < 1 or not 1 <= spec.pageSize <= MAX_PAGE_SIZE:
        raise bad_request(f"page must be >= 1 and pageSize 1..{MAX_PAGE_SIZE}")
    rows = select(
        items,
        filters=spec.filters,
        search=spec.searchString,
        targets=spec.searchTargetFields,
        sort_field=spec.sortField,
        descending=spec.sortOrder.upper() == "DESC",
    )
    start = (spec.page - 1) * spec.pageSize
    data = [to_json(o) for o in rows[start : start + spec.pageSize]]
    if spec.fields:
        keep = set(spec.fields) | set(id_keys)
        data = [{k: v for k, v in d.items() if k in keep} for d in data]
    return {"data": data, "totalCount": len(rows), "page": spec.page}


def spring_page(params: Mapping[str, str], default_size: int = 20) -> tuple[int, int]:
    """`page` (0-based) and `size` from the query string, as Spring reads a Pageable."""
    try:
        page = int(params.get("page", 0))
        size = int(params.get("size", default_size))
    except (TypeError, ValueError):
        raise bad_request("page and size must be integers") from None
    if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"page must be >= 0 and size 1..{MAX_PAGE_SIZE}")
    return page, size


def spring_sort(rows: list[Any], params: Mapping[str, str]) -> list[Any]:
    field, _, order = str(params.get("sort") or "").partition(",")
    if field:
        rows.sort(key=lambda o: _norm(get_field(o, field)).lower(), reverse=order == "desc")
    return rows


def page_b(
    items: Iterable[Any],
    params: Mapping[str, str],
    body: Mapping[str, Any] | None,
    to_json: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """A Spring `Page` (identity groups): the pageable from the query string only;
    the body's `keyword` is a case-insensitive substring search on the name and
    `groupIds` narrows to those ids (R1 ignores other fields)."""
    body = body or {}
    page, size = spring_page(params)
    keyword = str(body.get("keyword") or "").lower()
    ids = body.get("groupIds")
    rows = [
        o for o in items
        if (not keyword or keyword in str(get_field(o, "name") or "").lower())
        and (not isinstance(ids, list) or get_field(o, "id") in ids)
    ]  # fmt: skip
    rows = spring_sort(rows, params)
    total = len(rows)
    content = [to_json(o) for o in rows[page * size : (page + 1) * size]]
    pages = math.ceil(total / size) if total else 0
    return {
        "content": content,
        "totalElements": total,
        "totalPages": pages,
        "size": size,
        "number": page,
        "numberOfElements": len(content),
        "first": page == 0,
        "last": page >= pages - 1,
        "empty": not content,
    }


def page_body(
    items: Iterable[Any],
    body: Mapping[str, Any] | None,
    to_json: Callable[[Any], dict[str, Any]],
    *,
    filters: Mapping[str, str],
    search: tuple[str, ...] = ("name",),
    default_size: int = 10,
) -> dict[str, Any]:
    """The DPSK service's body-paged query: `{page (1-based), pageSize, searchString,
    searchTargetFields, filters, sortField, sortOrder, fields}` -> `{data, totalCount,
    totalPages, page}`. `filters` maps each documented filter to the attribute it
    reads; others are ignored, as R1 ignores them. `searchString` is a
    case-insensitive substring search over the target fields."""
    body = body or {}
    try:
        page = int(body.get("page", 1))
        size = int(body.get("pageSize", default_size))
    except (TypeError, ValueError):
        raise bad_request("page and pageSize must be integers") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:  # R1 answers page 0 with an error
        raise bad_request(f"page must be >= 1 and pageSize 1..{MAX_PAGE_SIZE}")
    wanted = {
        filters[k]: [_norm(v) for v in (vals if isinstance(vals, list) else [vals])]
        for k, vals in (body.get("filters") or {}).items()
        if k in filters
    }
    targets = [t for t in body.get("searchTargetFields") or search if isinstance(t, str)]
    rows = select(items, filters=wanted, search=body.get("searchString") or None,
                  targets=targets, sort_field=body.get("sortField"),
                  descending=str(body.get("sortOrder") or "ASC").upper() == "DESC")  # fmt: skip
    data = [to_json(o) for o in rows[(page - 1) * size : page * size]]
    if body.get("fields"):
        keep = {*body["fields"], "id"}
        data = [{k: v for k, v in d.items() if k in keep} for d in data]
    return {
        "data": data,
        "totalCount": len(rows),
        "totalPages": math.ceil(len(rows) / size) if rows else 0,
        "page": page,
    }


def narrow(
    by_id: dict[str, Any], filters: dict[str, Any] | None, name_index: dict[str, str] | None = None
) -> Iterable[Any]:
    """Candidate rows, using the id or name index when the filter allows it."""
    filters = filters or {}
    ids = filters.get("id")
    if ids is not None:
        ids = ids if isinstance(ids, list) else [ids]
        return [by_id[i] for i in dict.fromkeys(map(str, ids)) if i in by_id]
    names = filters.get("name")
    if name_index is not None and names is not None:
        names = names if isinstance(names, list) else [names]
        found = (name_index.get(str(n)) for n in dict.fromkeys(names))
        return [by_id[i] for i in found if i is not None and i in by_id]
    return by_id.values()
