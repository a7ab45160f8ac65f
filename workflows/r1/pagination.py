"""Both R1 paging styles, paged defensively.

Style A: `POST .../query` with `{page, pageSize, ...}` in the body -> `{data,
totalCount, page}` (view model, activities, DPSK pools and passphrases).
Style B (Spring): `GET ?page=&size=&sort=` -> `{content, totalElements}` or a bare
array (identities); the Spring-backed `POST /identityGroups/query` takes the
same query-string pageable and searches with its body.
Sources disagree on page bases and servers may cap the page size, so the
pager does not trust any single signal: it stops on an empty page, when the
reported total is reached, on a short page when no total is known, after two
pages that bring nothing new (a server ignoring `page`), or at `max_pages`.
Items are de-duplicated by id, so a page base off by one costs one extra call,
never a duplicate or a missed item.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from engine.errors import PermanentError

log = logging.getLogger("phasegrid.r1")

DEFAULT_PAGE_SIZE = 500
MAX_PAGES = 10_000

Fetch = Callable[[int], Awaitable[Any]]


class Sender(Protocol):
    async def send_json(self, method: str, route: str, **kwargs: Any) -> Any: ...


def item_key(item: Any) -> str:
    """Identity of an item for de-duplication across pages."""
    if isinstance(item, dict):
        for name in ("id", "serialNumber", "requestId"):
            if item.get(name):
                return f"{name}:{item[name]}"
    return json.dumps(item, sort_keys=True, default=str)


def unpack(body: Any) -> tuple[list[Any], int | None]:
    """(items, total) from either style (or a bare list)."""
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        return [], None
    items = body.get("data")
    if items is None:
        items = body.get("content")
    total = body.get("totalCount")
    if total is None:
        total = body.get("totalElements")
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return (items if isinstance(items, list) else []), total


async def paginate(
    fetch: Fetch,
    *,
    first_page: int,
    page_size: int,
    max_pages: int = MAX_PAGES,
    key: Callable[[Any], str] = item_key,
) -> AsyncIterator[Any]:
    """Yield each distinct item from successive pages of `fetch(page)`."""
    seen: set[str] = set()
    stale = 0
    page = first_page
    total: int | None = None
    for _ in range(max_pages):
        items, total = unpack(await fetch(page))
        if not items:
            break
        fresh = 0
        for item in items:
            k = key(item)
            if k not in seen:
                seen.add(k)
                fresh += 1
                yield item
        stale = 0 if fresh else stale + 1
        if stale >= 2:
            break
        if total is not None and len(seen) >= total:
            return
        if total is None and len(items) < page_size:
            return
        page += 1
    else:
        log.warning("pagination stopped at max_pages=%d", max_pages)
        return
    if total is not None and len(seen) < total and first_page > 0:
        # Short of the total after starting at 1: the server may count from 0.
        try:
            items, _ = unpack(await fetch(first_page - 1))
        except PermanentError:  # it does not: page 0 is invalid there
            return
        for item in items:
            k = key(item)
            if k not in seen:
                seen.add(k)
                yield item


def query_body(
    *,
    filters: Mapping[str, Any] | None = None,
    search: str | None = None,
    fields: list[str] | None = None,
    sort_field: str | None = None,
    sort_order: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A style-A query body without the paging keys (omitting what is unset)."""
    body: dict[str, Any] = dict(extra or {})
    if fields:
        body["fields"] = list(fields)
    if search:
        body["searchString"] = search
    if filters:
        body["filters"] = {k: (v if isinstance(v, list) else [v]) for k, v in filters.items()}
    if sort_field:
        body["sortField"] = sort_field
        body["sortOrder"] = (sort_order or "ASC").upper()
    return body


def iter_query(
    sender: Sender,
    route: str,
    body: Mapping[str, Any] | None = None,
    *,
    path: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page: int = 1,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[Any]:
    """Style A: `POST route` with the body plus `page`/`pageSize`."""
    base = dict(body or {})

    async def fetch(page: int) -> Any:
        return await sender.send_json(
            "POST", route, path=path, json={**base, "page": page, "pageSize": page_size}
        )

    return paginate(fetch, first_page=first_page, page_size=page_size, max_pages=max_pages)


def iter_spring(
    sender: Sender,
    route: str,
    *,
    path: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    sort: str | None = "name,asc",
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page: int = 0,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[Any]:
    """Style B: `GET route?page=&size=&sort=`."""
    base = dict(params or {})
    if sort:
        base["sort"] = sort

    async def fetch(page: int) -> Any:
        return await sender.send_json(
            "GET", route, path=path, params={**base, "page": page, "size": page_size}
        )

    return paginate(fetch, first_page=first_page, page_size=page_size, max_pages=max_pages)


def iter_spring_query(
    sender: Sender,
    route: str,
    body: Mapping[str, Any] | None = None,
    *,
    path: Mapping[str, Any] | None = None,
    sort: str | None = "name,asc",
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page: int = 0,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[Any]:
    """Style B on a `POST .../query` (identity groups): Spring reads the pageable
    from the query string; the search (`keyword`, `groupIds`) goes in the body."""
    base = dict(body or {})
    params: dict[str, Any] = {"size": page_size}
    if sort:
        params["sort"] = sort

    async def fetch(page: int) -> Any:
        return await sender.send_json(
            "POST", route, path=path, json=base, params={**params, "page": page}
        )

    return paginate(fetch, first_page=first_page, page_size=page_size, max_pages=max_pages)


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]
