"""429 / 5xx / network / timeout retries: backoff, Retry-After, bounds, stats."""

from __future__ import annotations

import anyio
import httpx
import pytest

from engine.limits import NoRateLimit
from workflows.r1 import R1Client, R1PermanentError, R1RateLimited, R1TransientError

from .helpers import MockR1, Sleeps, make_config

pytestmark = pytest.mark.anyio

OK = httpx.Response(200, json={"id": "v1"})


class RecordingLimiter(NoRateLimit):
    def __init__(self) -> None:
        self.acquired = 0
        self.penalties: list[float | None] = []

    async def acquire(self, cost: int = 1, key: str = "") -> None:
        self.acquired += 1

    def penalize(self, retry_after: float | None = None, key: str = "") -> None:
        self.penalties.append(retry_after)


async def test_429_with_retry_after(mock_r1: MockR1, make_client, sleeps: Sleeps) -> None:
    limiter = RecordingLimiter()
    mock_r1.queue("GET", "/venues/v1", httpx.Response(429, headers={"Retry-After": "3"}), OK)
    async with make_client(rate_limiter=limiter) as r1:
        venue = await r1.get_venue("v1")
        stats = r1.stats
    assert venue.id == "v1"
    assert limiter.penalties == [3.0]
    assert limiter.acquired == 3  # token call + two attempts
    assert len(sleeps.delays) == 1 and 3.0 <= sleeps.delays[0] <= 3.5
    assert stats.rate_limited == 1 and stats.retries == 1
    assert stats.calls["GET /venues/{venueId}"] == 2


async def test_429_without_retry_after_backs_off_exponentially(
    mock_r1: MockR1, make_client, sleeps: Sleeps
) -> None:
    limiter = RecordingLimiter()
    mock_r1.queue("GET", "/venues/v1", *[httpx.Response(429) for _ in range(3)], OK)
    async with make_client(rate_limiter=limiter) as r1:
        await r1.get_venue("v1")
    assert limiter.penalties == [None, None, None]
    assert [d <= c for d, c in zip(sleeps.delays, (0.5, 1.0, 2.0), strict=True)] == [True] * 3


async def test_429_exhausted_raises_rate_limited(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue(
        "GET", "/venues/v1", *[httpx.Response(429, headers={"Retry-After": "1"}) for _ in range(4)]
    )
    async with make_client() as r1:
        with pytest.raises(R1RateLimited) as info:
            await r1.get_venue("v1")
        assert r1.stats.failures == 1
    assert info.value.retry_after == 1.0
    assert len(mock_r1.calls("GET", "/venues/v1")) == 4  # attempts=4


async def test_5xx_retries_are_bounded(mock_r1: MockR1, make_client, sleeps: Sleeps) -> None:
    mock_r1.queue(
        "POST", "/venues/query", *[httpx.Response(503, json={"message": "busy"}) for _ in range(10)]
    )
    async with make_client() as r1:
        with pytest.raises(R1TransientError) as info:
            await r1.list_venues()
    assert info.value.status == 503 and "busy" in str(info.value)
    assert len(mock_r1.calls("POST", "/venues/query")) == 4
    assert len(sleeps.delays) == 3


async def test_5xx_then_success(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue("GET", "/venues/v1", httpx.Response(500), httpx.Response(502), OK)
    async with make_client() as r1:
        assert (await r1.get_venue("v1")).id == "v1"
        assert r1.stats.retries == 2 and r1.stats.statuses[500] == 1


async def test_network_errors_and_timeouts(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue("GET", "/venues/v1", httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), OK)
    async with make_client() as r1:
        assert (await r1.get_venue("v1")).id == "v1"
        assert r1.stats.network_errors == 2
    mock_r1.queue("GET", "/venues/v1", *[httpx.ReadTimeout("slow") for _ in range(4)])
    async with make_client() as r1:
        with pytest.raises(R1TransientError, match="timeout"):
            await r1.get_venue("v1")


async def test_attempt_timeout_caps_a_hung_call() -> None:
    calls = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        if request.url.path.startswith("/oauth2"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        calls += 1
        await anyio.sleep(10)
        return OK  # pragma: no cover

    client = R1Client(
        make_config(), transport=httpx.MockTransport(hang), attempt_timeout=0.01, sleep=Sleeps()
    )
    async with client as r1:
        with pytest.raises(R1TransientError, match="timeout"):
            await r1.get_venue("v1")
    assert calls == 4


async def test_4xx_is_permanent_immediately(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue(
        "POST",
        "/identityGroups",
        httpx.Response(
            400, json={"errors": [{"code": "IDM-1", "message": "name is required", "reason": "x"}]}
        ),
    )
    async with make_client() as r1:
        with pytest.raises(R1PermanentError) as info:
            await r1.create_identity_group("")
    assert info.value.status == 400 and info.value.code == "IDM-1"
    assert "name is required" in str(info.value)
    assert len(mock_r1.calls("POST", "/identityGroups")) == 1


async def test_seeded_backoff_is_deterministic(mock_r1: MockR1, make_client) -> None:
    runs = []
    for _ in range(2):
        sleeps = Sleeps()
        mock_r1.queue("GET", "/venues/v1", httpx.Response(500), httpx.Response(500), OK)
        async with make_client(sleep=sleeps, seed=123) as r1:
            await r1.get_venue("v1")
        runs.append(sleeps.delays)
    assert runs[0] == runs[1] and len(runs[0]) == 2


async def test_creates_are_not_blindly_resent(mock_r1: MockR1, make_client) -> None:
    """A create that may have landed (5xx, read timeout) raises transient at once;
    the engine re-runs the phase, whose find-then-create sees it."""
    accepted = httpx.Response(202, json={"requestId": "r1", "id": "g1"})
    mock_r1.queue(
        "POST",
        "/identityGroups",
        httpx.Response(502),
        httpx.ReadTimeout("slow"),
        httpx.Response(429),
        httpx.ConnectError("refused"),
        accepted,
    )
    async with make_client() as r1:
        with pytest.raises(R1TransientError) as info:
            await r1.create_identity_group("g")
        assert info.value.status == 502
        with pytest.raises(R1TransientError, match="timeout"):
            await r1.create_identity_group("g")
        result = await r1.create_identity_group("g")  # 429 and connect errors: retried
        assert result.id == "g1" and r1.stats.retries == 2
    assert len(mock_r1.calls("POST", "/identityGroups")) == 5


async def test_unsafe_write_retries_can_be_enabled(mock_r1: MockR1, make_client) -> None:
    mock_r1.queue(
        "POST",
        "/identityGroups",
        httpx.Response(502),
        httpx.Response(202, json={"requestId": "r1", "id": "g1"}),
    )
    overrides = {"retry": {"attempts": 3, "retry_unsafe_writes": True}}
    async with make_client(config_overrides=overrides) as r1:
        assert (await r1.create_identity_group("g")).id == "g1"
