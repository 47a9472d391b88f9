"""Request-size and batch limits: 413 on Content-Length and on chunked bodies, 400 on too
many items, nothing stored, and the server keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.server.helpers import assert_error, totals
from tests.support.api import Api
from whetstone.settings import Settings

MAX_BYTES = 4096
MAX_ITEMS = 5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789",
        control_wait_seconds=0,
        lease_seconds=30,
        max_request_bytes=MAX_BYTES,
        max_items_per_request=MAX_ITEMS,
    )


def _dataset_body(size: int) -> bytes:
    """A valid dataset JSON body of exactly ``size`` bytes."""
    body = {"name": "big", "description": "", "items": [{"input": {"q": "x"}}]}
    padding = size - len(orjson.dumps(body))
    assert padding >= 0
    body["description"] = "d" * padding
    encoded = orjson.dumps(body)
    assert len(encoded) == size
    return encoded


async def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _send(api: Api, data: bytes, chunked: bool, path: str = "/api/datasets") -> Any:
    headers = {**api.headers, "Content-Type": "application/json"}
    content: Any = _chunks(data) if chunked else data
    response = await api.client.post(path, content=content, headers=headers)
    if chunked:
        assert "content-length" not in response.request.headers
        assert response.request.headers.get("transfer-encoding") == "chunked"
    return response


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_at_the_limit_is_accepted(api: Api, chunked: bool) -> None:
    response = await _send(api, _dataset_body(MAX_BYTES), chunked)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("size", [MAX_BYTES + 1, MAX_BYTES * 10])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_the_limit_is_413(api: Api, chunked: bool, size: int) -> None:
    before = await totals(api)
    response = await _send(api, _dataset_body(size), chunked)
    error = assert_error(response, 413, "payload_too_large")
    assert str(MAX_BYTES) in error["message"]
    assert "/items" in error["message"]
    assert await totals(api) == before
    # the server still serves the next request
    assert (await _send(api, _dataset_body(100), chunked)).status_code == 201
    assert (await totals(api))["datasets"] == before["datasets"] + 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_adding_too_large_a_batch_of_items_is_413(api: Api, chunked: bool) -> None:
    ds = await api.dataset()
    items = [{"input": {"question": "y" * 1000}} for _ in range(MAX_ITEMS)]
    data = orjson.dumps({"items": items})
    assert len(data) > MAX_BYTES
    response = await _send(api, data, chunked, f"/api/datasets/{ds['id']}/items")
    assert_error(response, 413, "payload_too_large")
    assert (await api.call("GET", f"/api/datasets/{ds['id']}"))["data"]["itemCount"] == 2


async def test_oversized_body_without_a_key_is_a_clean_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/prompts",
        content=_dataset_body(MAX_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (401, 413)
    assert response.json()["error"]["code"] in ("unauthorized", "payload_too_large")


@pytest.mark.parametrize("count", [MAX_ITEMS, MAX_ITEMS + 1])
async def test_items_per_request_on_create(api: Api, count: int) -> None:
    before = await totals(api)
    body = {"name": "many", "items": [{"input": {"n": i}} for i in range(count)]}
    response = await api.client.post("/api/datasets", json=body, headers=api.headers)
    if count <= MAX_ITEMS:
        assert response.status_code == 201, response.text
        assert response.json()["data"]["itemCount"] == count
        return
    error = assert_error(response, 400, "invalid_request", "items")
    assert str(MAX_ITEMS) in error["message"]
    assert "/items" in error["message"]
    assert await totals(api) == before


@pytest.mark.parametrize("count", [MAX_ITEMS, MAX_ITEMS + 1])
async def test_items_per_request_on_add(api: Api, count: int) -> None:
    ds = await api.dataset()
    body = {"items": [{"input": {"question": str(i)}} for i in range(count)]}
    url = f"/api/datasets/{ds['id']}/items"
    response = await api.client.post(url, json=body, headers=api.headers)
    item_count = (await api.call("GET", f"/api/datasets/{ds['id']}"))["data"]["itemCount"]
    if count <= MAX_ITEMS:
        assert response.status_code == 201, response.text
        assert item_count == 2 + count
        return
    assert_error(response, 400, "invalid_request", "items")
    assert item_count == 2


async def test_a_dataset_grows_past_the_batch_limit_in_batches(api: Api) -> None:
    ds = await api.dataset([{"input": {"n": i}} for i in range(MAX_ITEMS)])
    for start in range(MAX_ITEMS, 4 * MAX_ITEMS, MAX_ITEMS):
        batch = {"items": [{"input": {"n": i}} for i in range(start, start + MAX_ITEMS)]}
        await api.call("POST", f"/api/datasets/{ds['id']}/items", 201, json=batch)
    items = await api.call("GET", f"/api/datasets/{ds['id']}/items?limit=500")
    assert [i["input"]["n"] for i in items["data"]] == list(range(4 * MAX_ITEMS))
