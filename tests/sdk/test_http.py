"""The REST edge through ``httpx.MockTransport``: every error code back to the class the
server raised, bodies that are not Whetstone's, an unreachable server, the key and URL
defaults, and the requests the resources send."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.live import free_port
from whetstone.errors import (
    ERRORS_BY_CODE,
    InternalError,
    NotFound,
    Unauthorized,
    WhetstoneError,
)
from whetstone.sdk import AsyncWhetstone, JobFailedError, WhetstoneConnectionError
from whetstone.sdk.http import USER_AGENT

Handler = Any


def client_with(handler: Handler, **kwargs: Any) -> AsyncWhetstone:
    return AsyncWhetstone(
        kwargs.pop("base_url", "http://whetstone.test"),
        kwargs.pop("api_key", "wst_key"),
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


@pytest.mark.parametrize("cls", list(ERRORS_BY_CODE.values()), ids=list(ERRORS_BY_CODE))
async def test_every_error_code_comes_back_as_its_class(cls: type[WhetstoneError]) -> None:
    details = {"field": "what is wrong"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(cls.status, json=cls("the message", details=details).to_body())

    async with client_with(handler) as client:
        with pytest.raises(WhetstoneError) as caught:
            await client.prompts.get("prm_1")
    assert type(caught.value) is cls
    assert caught.value.message == "the message"
    assert caught.value.details == details


@pytest.mark.parametrize(
    ("status", "cls"), [(404, NotFound), (401, Unauthorized), (502, InternalError)]
)
async def test_an_error_without_a_whetstone_body_maps_by_status(
    status: int, cls: type[WhetstoneError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html>Bad Gateway</html>")

    async with client_with(handler) as client:
        with pytest.raises(cls, match=f"HTTP {status}.*Bad Gateway") as caught:
            await client.health()
    assert caught.value.details == {"status": status}


async def test_a_success_without_the_envelope_is_an_error() -> None:
    async with client_with(lambda r: httpx.Response(200, json=[1, 2])) as client:
        with pytest.raises(InternalError, match="envelope"):
            await client.health()


async def test_an_unreachable_server_says_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with AsyncWhetstone(url, "k", trust_env=False) as client:
        with pytest.raises(WhetstoneConnectionError) as caught:
            await client.prompts.list()
    message = str(caught.value)
    assert url in message
    assert "whetstone serve" in message
    assert caught.value.url == url
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert isinstance(caught.value, WhetstoneError)


async def test_a_timeout_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with client_with(handler) as client:
        with pytest.raises(WhetstoneConnectionError, match=r"in time.*ReadTimeout"):
            await client.optimization.get("job_1")


def test_a_job_failure_carries_the_jobs_error_class() -> None:
    error = JobFailedError("job_1", {"code": "provider_error", "message": "no key"})
    assert type(error.error) is ERRORS_BY_CODE["provider_error"]
    assert error.__cause__ is error.error
    assert error.details["error"]["code"] == "provider_error"
    assert "job_1" in str(error)
    assert "no key" in str(error)


async def test_url_and_key_default_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"status": "ok"}, "meta": {}})

    monkeypatch.setenv("WHETSTONE_URL", "http://env.test:9000/")
    monkeypatch.setenv("WHETSTONE_API_KEY", "wst_from_env")
    async with AsyncWhetstone(transport=httpx.MockTransport(handler)) as client:
        await client.health()
        assert client.base_url == "http://env.test:9000"
    monkeypatch.delenv("WHETSTONE_URL")
    monkeypatch.delenv("WHETSTONE_API_KEY")
    async with AsyncWhetstone(transport=httpx.MockTransport(handler)) as client:
        await client.health()
        assert client.base_url == "http://127.0.0.1:8000"
    assert str(seen[0].url) == "http://env.test:9000/api/health"
    assert seen[0].headers["authorization"] == "Bearer wst_from_env"
    assert seen[0].headers["user-agent"] == USER_AGENT
    assert str(seen[1].url) == "http://127.0.0.1:8000/api/health"
    assert "authorization" not in seen[1].headers


async def test_the_requests_each_call_sends() -> None:
    seen: list[tuple[str, str, Any]] = []
    job = {"id": "job_1", "status": "queued"}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url).removeprefix("http://whetstone.test"), body))
        listing = request.method == "GET" and request.url.path == "/api/optimizations"
        return httpx.Response(200, json={"data": [job] if listing else job, "meta": {}})

    async with client_with(handler) as client:
        config = {"max_iterations": 3, "evaluationMetrics": [{"name": "exact_match"}]}
        await client.optimization.start("prm_1", "ds_1", config)
        await client.optimization.pause("job_1", reason="lunch")
        await client.optimization.resume("job_1")
        await client.optimization.cancel("job_1")
        await client.optimization.list(status="running", limit=5)
        await client.optimization.get("job/../1")
    assert seen == [
        (
            "POST",
            "/api/optimizations",
            {"promptId": "prm_1", "datasetId": "ds_1", "config": config},
        ),
        ("POST", "/api/optimizations/job_1/pause", {"reason": "lunch"}),
        ("POST", "/api/optimizations/job_1/resume", None),
        ("POST", "/api/optimizations/job_1/cancel", None),
        ("GET", "/api/optimizations?status=running&limit=5", None),
        ("GET", "/api/optimizations/job%2F..%2F1", None),
    ]


async def test_page_size_is_checked_before_any_request() -> None:
    async with client_with(lambda r: httpx.Response(500)) as client:
        with pytest.raises(ValueError, match="page_size"):
            client.prompts.iterate(page_size=501)
