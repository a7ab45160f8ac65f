"""Defensive pagination: page bases, capped page sizes, servers ignoring `page`."""

from __future__ import annotations

import httpx
import pytest

from workflows.r1.pagination import collect, iter_spring, paginate

from .helpers import MockR1, body_of

pytestmark = pytest.mark.anyio

ITEMS = [{"id": f"v{i:03d}", "name": f"venue {i}"} for i in range(23)]


def style_a(base: int, cap: int | None = None, ignore_page: bool = False, total: bool = True):
    def handler(request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        size = min(body["pageSize"], cap or body["pageSize"])
        page = 0 if ignore_page else body["page"] - base
        chunk = ITEMS[page * size : (page + 1) * size] if page >= 0 else []
        out = {"data": chunk, "page": body["page"]}
        if total:
            out["totalCount"] = len(ITEMS)
        return httpx.Response(200, json=out)

    return handler


@pytest.mark.parametrize(
    ("base", "cap", "ignore_page", "total"),
    [
        (1, None, False, True),
        (0, None, False, True),
        (1, 4, False, True),
        (1, None, True, True),
        (1, None, False, False),
        (1, 4, True, False),
    ],
)
async def test_style_a_variants(mock_r1: MockR1, make_client, base, cap, ignore_page, total):
    mock_r1.on("POST", "/venues/query", style_a(base, cap, ignore_page, total))
    async with make_client() as r1:
        venues = await r1.list_venues(page_size=5)
    n = len(mock_r1.calls("POST", "/venues/query"))
    if ignore_page and not total:
        assert [v.id for v in venues] == [i["id"] for i in ITEMS[:4]]
        assert n == 1  # a short page and no total: that was all
    elif ignore_page:
        assert [v.id for v in venues] == [i["id"] for i in ITEMS[:5]]
        assert n <= 4
    else:  # a 0-based server is caught by the fallback to page 0 (order aside)
        assert sorted(v.id for v in venues) == [i["id"] for i in ITEMS]
        assert n <= 23 // (cap or 5) + 3


async def test_style_b_spring(mock_r1: MockR1, make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["size"])
        assert request.url.params["sort"] == "name,asc"
        chunk = ITEMS[page * size : (page + 1) * size]
        return httpx.Response(
            200, json={"content": chunk, "totalElements": len(ITEMS), "number": page}
        )

    mock_r1.on("GET", "/identityGroups", handler)
    async with make_client() as r1:
        items = await collect(iter_spring(r1, "/identityGroups", page_size=10))
    assert [i["id"] for i in items] == [i["id"] for i in ITEMS]
    assert len(mock_r1.calls("GET", "/identityGroups")) == 3


async def test_server_ignoring_page_without_total_stops(mock_r1: MockR1, make_client) -> None:
    mock_r1.on("POST", "/venues/query", style_a(1, None, True, False))
    async with make_client() as r1:
        venues = await r1.list_venues(page_size=5)
    assert len(venues) == 5
    assert len(mock_r1.calls("POST", "/venues/query")) == 3  # then two pages with nothing new


async def test_max_pages_guard() -> None:
    counter = iter(range(10**6))

    async def endless(page: int):
        return {"data": [{"id": str(next(counter))}]}

    items = await collect(paginate(endless, first_page=1, page_size=1, max_pages=50))
    assert len(items) == 50
