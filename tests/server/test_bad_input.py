"""Malformed requests: the documented status and code, a message saying what to fix, the
field named in ``details``, and nothing changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.helpers import assert_error, job_state, totals
from tests.support.api import Api

LONG = "x" * 201


@pytest.fixture
async def seeded(api: Api) -> AsyncIterator[dict[str, Any]]:
    """One prompt, dataset and queued job; after the test, the workspace is unchanged."""
    job = await api.job()
    ids = {"prompt": job["promptId"], "dataset": job["datasetId"], "job": job["id"]}
    before = (await totals(api), await job_state(api, job["id"]))
    items = (await api.call("GET", f"/api/datasets/{ids['dataset']}"))["data"]["itemCount"]
    versions = len((await api.call("GET", f"/api/prompts/{ids['prompt']}/versions"))["data"])
    yield ids
    assert (await totals(api), await job_state(api, job["id"])) == before
    assert (await api.call("GET", f"/api/datasets/{ids['dataset']}"))["data"]["itemCount"] == items
    after = await api.call("GET", f"/api/prompts/{ids['prompt']}/versions")
    assert len(after["data"]) == versions


def _message_names(error: dict[str, Any], field: str) -> None:
    leaf = field.rsplit(".", 1)[-1]
    assert leaf in error["message"], f"message {error['message']!r} does not name {leaf!r}"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{bad json", "application/json"),
        (b'{"name": "a", "template": "b",}', "application/json"),
        (b"name=a&template=b", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/octet-stream"),
    ],
    ids=["invalid-json", "trailing-comma", "form", "binary"],
)
@pytest.mark.parametrize("path", ["/api/prompts", "/api/datasets", "/api/optimizations"])
async def test_body_that_is_not_json(
    api: Api, seeded: dict[str, Any], path: str, content: bytes, content_type: str
) -> None:
    headers = {**api.headers, "Content-Type": content_type}
    response = await api.client.post(path, content=content, headers=headers)
    error = assert_error(response, 400, "invalid_request", "body")
    assert "JSON" in error["message"]


async def test_json_without_a_content_type_is_read_as_json(api: Api) -> None:
    content = b'{"name": "plain", "template": "hi {who}"}'
    response = await api.client.post("/api/prompts", content=content, headers=api.headers)
    assert "content-type" not in response.request.headers
    assert response.status_code == 201, response.text
    assert response.json()["data"]["variables"] == ["who"]


@pytest.mark.parametrize("content", [b"[1, 2]", b'"text"', b"null", b""], ids=repr)
async def test_body_that_is_not_an_object(api: Api, seeded: dict[str, Any], content: bytes) -> None:
    headers = {**api.headers, "Content-Type": "application/json"}
    response = await api.client.post("/api/prompts", content=content, headers=headers)
    assert_error(response, 400, "invalid_request", "body")


PROMPT_CASES: list[tuple[dict[str, Any], str]] = [
    ({"template": "x"}, "name"),
    ({"name": "", "template": "x"}, "name"),
    ({"name": LONG, "template": "x"}, "name"),
    ({"name": 5, "template": "x"}, "name"),
    ({"name": "a", "template": 5}, "template"),
    ({"name": "a", "template": "x", "tags": "t"}, "tags"),
    ({"name": "a", "template": "x", "description": ["d"]}, "description"),
    ({"name": "a", "template": "x", "colour": "red"}, "colour"),
    ({"name": "a", "messages": "hi"}, "messages"),
    ({"name": "a", "messages": []}, "messages"),
    ({"name": "a", "messages": [{"role": "bot", "content": "x"}]}, "messages"),
    ({"name": "a", "messages": [{"role": "user"}]}, "messages"),
    ({"name": "a", "messages": [{"role": "user", "content": "x", "extra": 1}]}, "messages"),
]


@pytest.mark.parametrize(("body", "field"), PROMPT_CASES)
async def test_bad_prompt_fields(
    api: Api, seeded: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/prompts", json=body, headers=api.headers)
    error = assert_error(response, 400, "invalid_request", field)
    _message_names(error, field)


TEMPLATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"template": "lone { brace"}, "template"),
    ({"template": "lone } brace"}, "template"),
    ({"template": "{not an identifier}"}, "template"),
    ({"template": "{1abc}"}, "template"),
    ({"template": "{}"}, "template"),
    ({"messages": [{"role": "user", "content": "x {"}]}, "messages"),
    ({"messages": [{"role": "user", "content": "{a-b}"}]}, "messages"),
    ({"template": "x", "messages": [{"role": "user", "content": "x"}]}, "template"),
    ({}, "template"),
]


@pytest.mark.parametrize("path", ["/api/prompts", "/api/prompts/{prompt}/versions"])
@pytest.mark.parametrize(("body", "field"), TEMPLATE_CASES)
async def test_bad_prompt_content_is_rejected(
    api: Api, seeded: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    full = {"name": "new", **body} if path == "/api/prompts" else body
    url = path.format(**seeded)
    response = await api.client.post(url, json=full, headers=api.headers)
    error = assert_error(response, 400, "invalid_request")
    # says how to fix it: escape braces, or give exactly one form
    assert "{{" in error["message"] or "exactly one" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"), [TEMPLATE_CASES[0], TEMPLATE_CASES[5], TEMPLATE_CASES[7]]
)
async def test_bad_prompt_content_details_name_the_field(
    api: Api, seeded: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    """PROTOCOL.md: ``details`` names the fields; a broken template is a ``template`` (or
    ``messages``) problem, not a ``body`` one."""
    response = await api.client.post(
        "/api/prompts", json={"name": "n", **body}, headers=api.headers
    )
    error = assert_error(response, 400, "invalid_request")
    named = [k for k in error["details"] if k.split(".")[0] in ("template", "messages")]
    assert named, f"details {error['details']} do not name {field!r}"


async def test_duplicate_prompt_name(api: Api, seeded: dict[str, Any]) -> None:
    existing = (await api.call("GET", f"/api/prompts/{seeded['prompt']}"))["data"]["name"]
    body = {"name": existing, "template": "another"}
    response = await api.client.post("/api/prompts", json=body, headers=api.headers)
    error = assert_error(response, 400, "invalid_request", "name")
    assert "/versions" in error["message"]


DATASET_CASES: list[tuple[dict[str, Any], str]] = [
    ({"items": []}, "name"),
    ({"name": "d", "items": "x"}, "items"),
    ({"name": "d", "items": [{"expectedOutput": "x"}]}, "items.0.input"),
    ({"name": "d", "items": [{"input": "x"}]}, "items.0.input"),
    ({"name": "d", "items": [{"input": {}, "metadata": 3}]}, "items.0.metadata"),
    ({"name": "d", "items": [{"input": {}}, {"input": {}, "expected": 1}]}, "items.1.expected"),
    ({"name": "d", "itemz": []}, "itemz"),
]


@pytest.mark.parametrize(("body", "field"), DATASET_CASES)
async def test_bad_dataset_fields(
    api: Api, seeded: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/datasets", json=body, headers=api.headers)
    error = assert_error(response, 400, "invalid_request", field)
    _message_names(error, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "items"), ({"items": []}, "items"), ({"items": [{"input": 1}]}, "items.0.input")],
)
async def test_bad_added_items(
    api: Api, seeded: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    url = f"/api/datasets/{seeded['dataset']}/items"
    response = await api.client.post(url, json=body, headers=api.headers)
    assert_error(response, 400, "invalid_request", field)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/prompts/prm_missing"),
        ("GET", "/api/prompts/prm_missing/versions"),
        ("POST", "/api/prompts/prm_missing/versions"),
        ("GET", "/api/datasets/ds_missing"),
        ("GET", "/api/datasets/ds_missing/items"),
        ("POST", "/api/datasets/ds_missing/items"),
        ("GET", "/api/optimizations/job_missing"),
        ("GET", "/api/optimizations/job_missing/events"),
        ("GET", "/api/optimizations/job_missing/results"),
        ("POST", "/api/optimizations/job_missing/pause"),
        ("POST", "/api/optimizations/job_missing/resume"),
        ("POST", "/api/optimizations/job_missing/cancel"),
    ],
)
async def test_unknown_ids_are_404(
    api: Api, seeded: dict[str, Any], method: str, path: str
) -> None:
    body = None
    if path.endswith("/versions") and method == "POST":
        body = {"template": "x"}
    elif path.endswith("/items") and method == "POST":
        body = {"items": [{"input": {"question": "q"}}]}
    response = await api.client.request(method, path, json=body, headers=api.headers)
    error = assert_error(response, 404, "not_found")
    assert path.split("/")[3] in error["message"]


LIST_QUERIES = [
    ("/api/optimizations", "status=bogus", "status"),
    ("/api/optimizations", "status=QUEUED", "status"),
    *[
        (path, query, query.split("=")[0])
        for path in ("/api/optimizations", "/api/prompts", "/api/datasets")
        for query in ("limit=0", "limit=501", "limit=abc", "offset=-1")
    ],
]


@pytest.mark.parametrize(("path", "query", "field"), LIST_QUERIES)
async def test_bad_list_queries(
    api: Api, seeded: dict[str, Any], path: str, query: str, field: str
) -> None:
    response = await api.client.get(f"{path}?{query}", headers=api.headers)
    error = assert_error(response, 400, "invalid_request", field)
    _message_names(error, field)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("offset=-1", "offset"), ("limit=501", "limit")],
)
async def test_bad_items_queries(api: Api, seeded: dict[str, Any], query: str, field: str) -> None:
    response = await api.client.get(
        f"/api/datasets/{seeded['dataset']}/items?{query}", headers=api.headers
    )
    assert_error(response, 400, "invalid_request", field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("afterEventId=-1", "afterEventId"),
        ("afterEventId=x", "afterEventId"),
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
    ],
)
async def test_bad_events_queries(api: Api, seeded: dict[str, Any], query: str, field: str) -> None:
    response = await api.client.get(
        f"/api/optimizations/{seeded['job']}/events?{query}", headers=api.headers
    )
    error = assert_error(response, 400, "invalid_request", field)
    _message_names(error, field)


async def test_events_limit_edges_are_accepted(api: Api, seeded: dict[str, Any]) -> None:
    for limit in (1, 5000):
        await api.call("GET", f"/api/optimizations/{seeded['job']}/events?limit={limit}")


@pytest.mark.parametrize("action", ["pause", "cancel"])
@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": 5}, "reason"), ({"why": "x"}, "why"), ({"reason": LONG * 5}, "reason")],
)
async def test_bad_action_bodies(
    api: Api, seeded: dict[str, Any], action: str, body: dict[str, Any], field: str
) -> None:
    url = f"/api/optimizations/{seeded['job']}/{action}"
    response = await api.client.post(url, json=body, headers=api.headers)
    assert_error(response, 400, "invalid_request", field)
