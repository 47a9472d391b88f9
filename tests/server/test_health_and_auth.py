"""Health, API-key authentication, the OpenAPI document and unknown paths."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.server.helpers import PROTOCOL_ROUTES, assert_error
from tests.support.api import Api
from whetstone import __version__

KEYED_ROUTES = [
    (method, path.replace("{id}", "x-123"))
    for method, path in PROTOCOL_ROUTES
    if path != "/api/health" and not path.endswith("/stream")
]


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"status": "ok", "version": __version__}


@pytest.mark.parametrize(("method", "path"), KEYED_ROUTES)
async def test_every_api_route_needs_a_key(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    kwargs = {"json": {}} if method == "POST" else {}
    response = await client.request(method, path, **kwargs)
    error = assert_error(response, 401, "unauthorized")
    assert "Authorization: Bearer" in error["message"]
    assert "x-api-key" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-key"},
        {"x-api-key": "wrong-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["bad-bearer", "bad-x-api-key", "empty-bearer", "basic-scheme"],
)
async def test_a_wrong_key_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/api/prompts", headers=headers)
    error = assert_error(response, 401, "unauthorized")
    assert "key" in error["message"]
    assert "WWW-Authenticate" in response.headers


async def test_a_key_of_a_similar_shape_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    secret = auth["Authorization"].removeprefix("Bearer ")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    response = await client.get("/api/prompts", headers={"Authorization": f"Bearer {tampered}"})
    assert_error(response, 401, "unauthorized")


async def test_x_api_key_header_works(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    secret = auth["Authorization"].removeprefix("Bearer ")
    created = await client.post(
        "/api/prompts", headers={"x-api-key": secret}, json={"name": "via-header", "template": "x"}
    )
    assert created.status_code == 201, created.text
    listed = await client.get("/api/prompts", headers={"x-api-key": secret})
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()["data"]] == ["via-header"]


async def test_both_headers_work_on_the_same_workspace(api: Api, client: httpx.AsyncClient) -> None:
    prompt = await api.prompt()
    secret = api.headers["Authorization"].removeprefix("Bearer ")
    response = await client.get(f"/api/prompts/{prompt['id']}", headers={"x-api-key": secret})
    assert response.status_code == 200
    assert response.json()["data"]["id"] == prompt["id"]


def _normalize(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{id}", path)


async def test_openapi_lists_every_protocol_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    served = {
        (method.upper(), _normalize(path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    # The SSE stream is built with the WebSocket in issue Step 3/7; remove this line then.
    not_yet = {("GET", "/api/optimizations/{id}/stream")}
    missing = [route for route in PROTOCOL_ROUTES if route not in served and route not in not_yet]
    assert not missing, f"PROTOCOL.md routes missing from /openapi.json: {missing}"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nope"), ("POST", "/api/prompts/x/nope"), ("GET", "/api/optimizations/a/b/c")],
)
async def test_unknown_path_is_a_404_envelope(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, path: str
) -> None:
    response = await client.request(method, path, headers=auth)
    error = assert_error(response, 404, "not_found")
    assert path in error["message"]
