"""Rate limits: a token bucket per API key and per client address (for requests without a
valid key), on the injected clock; 429 ``rate_limited`` with ``Retry-After``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.server.helpers import assert_error
from tests.server.streaming.clients import bearer, http_client, ws
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.clock import ManualClock
from whetstone.server.app import create_app
from whetstone.server.ratelimit import TokenBuckets
from whetstone.server.services import Services
from whetstone.server.ws.session import RATE_LIMITED, UNAUTHORIZED

SMALL = {"rate_limit_per_minute": 60, "rate_limit_burst": 3}  # one token a second
limited = pytest.mark.parametrize("settings_overrides", [SMALL])


async def _spend(api: Api, count: int, path: str = "/api/prompts") -> None:
    for _ in range(count):
        await api.call("GET", path)


def _assert_limited(response: httpx.Response, retry_after: int) -> dict[str, Any]:
    error = assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == str(retry_after)
    assert error["details"]["retryAfter"] == retry_after
    assert f"retry in {retry_after} s" in error["message"]
    assert "WHETSTONE_RATE_LIMIT_PER_MINUTE" in error["message"]
    assert "WHETSTONE_RATE_LIMIT_BURST" in error["message"]
    return error


# -- the buckets ----------------------------------------------------------------------------


def test_a_bucket_gives_its_burst_then_refills_at_the_rate() -> None:
    clock = ManualClock()
    buckets = TokenBuckets(per_minute=30, burst=2, clock=clock)  # a token every 2 s
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(2.0)
    clock.advance(1.5)
    assert buckets.take("a") == pytest.approx(0.5)
    clock.advance(0.5)
    assert buckets.take("a") == 0
    assert buckets.take("b") == 0  # each name has its own bucket
    clock.advance(3600)
    assert [buckets.take("a"), buckets.take("a"), buckets.take("a") > 0] == [0, 0, True]


def test_wait_takes_nothing() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, clock=ManualClock())
    assert buckets.wait("a") == 0
    assert buckets.wait("a") == 0
    assert buckets.take("a") == 0
    assert buckets.wait("a") == pytest.approx(1.0)


def test_zero_per_minute_turns_the_buckets_off() -> None:
    buckets = TokenBuckets(per_minute=0, burst=1, clock=ManualClock())
    assert not buckets.enabled
    assert all(buckets.take("a") == 0 for _ in range(1000))
    assert len(buckets) == 0


def test_the_number_of_buckets_is_bounded() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    buckets = TokenBuckets(per_minute=60, burst=1, clock=clock, max_buckets=3)
    for name in "abcde":
        buckets.take(name)
    assert len(buckets) == 3
    assert buckets.take("a") == 0  # forgotten, so full again: only ever more lenient


# -- REST -----------------------------------------------------------------------------------


@limited
async def test_a_key_gets_its_burst_then_429_with_retry_after(api: Api, clock: ManualClock) -> None:
    await _spend(api, 3)
    response = await api.client.get("/api/prompts", headers=api.headers)
    error = _assert_limited(response, 1)
    assert "this API key" in error["message"]
    assert error["details"]["limitPerMinute"] == 60
    assert error["details"]["burst"] == 3
    clock.advance(1)
    await _spend(api, 1)  # one token came back
    _assert_limited(await api.client.get("/api/prompts", headers=api.headers), 1)
    clock.advance(60)
    await _spend(api, 3)  # full again, never more than the burst


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit_per_minute": 6, "rate_limit_burst": 1}]
)
async def test_retry_after_is_the_whole_seconds_until_the_next_token(
    api: Api, clock: ManualClock
) -> None:
    await _spend(api, 1)
    _assert_limited(await api.client.get("/api/prompts", headers=api.headers), 10)
    clock.advance(4)
    _assert_limited(await api.client.get("/api/prompts", headers=api.headers), 6)
    clock.advance(6)
    await _spend(api, 1)


@limited
async def test_every_keyed_route_counts_and_a_429_changes_nothing(
    api: Api, clock: ManualClock
) -> None:
    await api.call("POST", "/api/prompts", 201, json={"name": "a", "template": "x {q}"})
    await _spend(api, 2, "/api/datasets")
    body = {"name": "b", "template": "y {q}"}
    response = await api.client.post("/api/prompts", headers=api.headers, json=body)
    _assert_limited(response, 1)
    clock.advance(1)
    prompts = await api.call("GET", "/api/prompts")
    assert [p["name"] for p in prompts["data"]] == ["a"]


@limited
async def test_each_key_has_its_own_bucket(
    api: Api, other_api: Api, services: Services, client: httpx.AsyncClient
) -> None:
    await _spend(api, 3)
    _assert_limited(await api.client.get("/api/prompts", headers=api.headers), 1)
    await _spend(other_api, 3)  # another workspace's key
    workspace = await services.store.keys.ensure_workspace("default")
    _, second = await services.store.keys.create_key(workspace.id)
    same_workspace = Api(client, bearer(second))
    await _spend(same_workspace, 3)  # another key of the same workspace


def _keyless_pages(services: Services) -> list[str]:
    """``GET /api/health`` and every web page without a path parameter."""
    return [
        str(route.path)
        for route in iter_route_contexts(create_app(services=services).routes)
        if route.path is not None
        and "GET" in (route.methods or ())
        and "{" not in route.path
        and (route.path == "/api/health" or not route.path.startswith("/api/"))
    ]


@limited
async def test_health_and_web_pages_are_never_limited(
    api: Api, client: httpx.AsyncClient, services: Services
) -> None:
    await _spend(api, 3)
    for _ in range(3):
        assert (await client.get("/api/prompts")).status_code == 401  # spends the address
    assert (await client.get("/api/prompts")).status_code == 429
    pages = _keyless_pages(services)
    assert "/api/health" in pages
    for _ in range(10):
        for path in [*pages, "/static/app.js", "/openapi.json"]:
            for headers in (api.headers, {}):
                response = await client.get(path, headers=headers)
                assert response.status_code != 429, path
    assert (await client.get("/api/health")).json()["data"]["status"] == "ok"


@limited
async def test_requests_without_a_key_spend_the_address_then_429(
    api: Api, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    for headers in ({}, {"Authorization": "Bearer wst_000000000000_wrong"}, {"x-api-key": "x"}):
        response = await client.get("/api/prompts", headers=headers)
        assert_error(response, 401, "unauthorized")
    error = _assert_limited(await client.get("/api/prompts"), 1)
    assert "without a valid API key" in error["message"]
    # once the address is spent even a right key is refused, so guessing learns nothing
    _assert_limited(await client.get("/api/prompts", headers=api.headers), 1)
    clock.advance(1)
    await _spend(api, 1)
    clock.advance(1)
    assert_error(await client.get("/api/prompts", headers=bearer("wrong")), 401, "unauthorized")


@limited
async def test_a_valid_key_does_not_spend_the_address(api: Api, client: httpx.AsyncClient) -> None:
    await _spend(api, 3)
    for _ in range(3):
        assert_error(await client.get("/api/prompts"), 401, "unauthorized")


@limited
async def test_login_attempts_are_limited_by_address(
    client: httpx.AsyncClient, clock: ManualClock, services: Services
) -> None:
    routes = iter_route_contexts(create_app(services=services).routes)
    if not any(route.path == "/api/auth/login" for route in routes):
        pytest.skip("this build has no POST /api/auth/login")
    for _ in range(3):
        response = await client.post("/api/auth/login", json={"code": "not-a-code"})
        assert response.status_code in (400, 401), response.text
    response = await client.post("/api/auth/login", json={"code": "not-a-code"})
    error = _assert_limited(response, 1)
    assert "without a valid API key" in error["message"]
    clock.advance(1)
    response = await client.post("/api/auth/login", json={"code": "not-a-code"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit_per_minute": 0, "rate_limit_burst": 1}]
)
async def test_zero_turns_limiting_off(api: Api, client: httpx.AsyncClient) -> None:
    await _spend(api, 30)
    for _ in range(30):
        assert_error(await client.get("/api/prompts"), 401, "unauthorized")


async def test_the_defaults_are_generous(api: Api, services: Services) -> None:
    settings = services.settings
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (600, 120)
    await _spend(api, 120)


# -- WebSocket ------------------------------------------------------------------------------


@limited
async def test_a_websocket_connection_counts_against_its_key(
    server: LiveServer, key: str, clock: ManualClock
) -> None:
    async with http_client(server, bearer(key)) as rest:  # REST and WebSocket share a bucket
        await Api(rest, bearer(key)).call("GET", "/api/prompts")
    async with ws(server, key) as first, ws(server, key) as second:
        await first.ping()
        await second.ping()
        async with ws(server, headers=bearer(key)) as third:
            assert await third.closed() == RATE_LIMITED
            assert third.conn.close_reason == "rate limited: retry in 1 s"
            assert third.seen == []
        await first.ping()  # open sockets carry on: commands are not counted
    clock.advance(1)
    async with ws(server) as browser:  # first-message auth counts the same
        await browser.send({"type": "auth", "token": key})
        await browser.expect("authenticated")


@limited
async def test_failed_websocket_auth_spends_the_address(
    server: LiveServer, key: str, clock: ManualClock
) -> None:
    for _ in range(3):
        async with ws(server, headers=bearer("wst_000000000000_wrong")) as bad:
            assert await bad.closed() == UNAUTHORIZED
    async with ws(server, headers=bearer("wst_000000000000_wrong")) as bad:
        assert await bad.closed() == RATE_LIMITED
    async with ws(server, headers=bearer(key)) as good:  # the address is spent for all
        assert await good.closed() == RATE_LIMITED
    clock.advance(1)
    async with ws(server, key) as good:
        await good.ping()
