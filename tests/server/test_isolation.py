"""Workspace isolation: another workspace's ids are 404 everywhere and its lists stay empty."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.helpers import assert_error, job_state, totals
from tests.support.api import Api
from whetstone.server.services import Services

BY_ID: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/prompts/{prompt}", None),
    ("GET", "/api/prompts/{prompt}/versions", None),
    ("POST", "/api/prompts/{prompt}/versions", {"template": "stolen {question}"}),
    ("GET", "/api/datasets/{dataset}", None),
    ("GET", "/api/datasets/{dataset}/items", None),
    ("POST", "/api/datasets/{dataset}/items", {"items": [{"input": {"question": "x"}}]}),
    ("GET", "/api/optimizations/{job}", None),
    ("GET", "/api/optimizations/{job}/events", None),
    ("GET", "/api/optimizations/{job}/results", None),
    ("POST", "/api/optimizations/{job}/pause", None),
    ("POST", "/api/optimizations/{job}/resume", None),
    ("POST", "/api/optimizations/{job}/cancel", None),
]


@pytest.fixture
async def owned(api: Api) -> dict[str, Any]:
    """A prompt, a dataset and a job of workspace ``default``."""
    job = await api.job()
    return {"prompt": job["promptId"], "dataset": job["datasetId"], "job": job["id"]}


@pytest.mark.parametrize(("method", "path", "body"), BY_ID)
async def test_other_workspace_gets_404_by_id(
    api: Api,
    other_api: Api,
    owned: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    before = (await totals(api), await job_state(api, owned["job"]))
    versions = len((await api.call("GET", f"/api/prompts/{owned['prompt']}/versions"))["data"])
    items = (await api.call("GET", f"/api/datasets/{owned['dataset']}"))["data"]["itemCount"]
    url = path.format(**owned)
    response = await other_api.client.request(method, url, headers=other_api.headers, json=body)
    error = assert_error(response, 404, "not_found")
    assert "not found" in error["message"]
    # nothing moved in the owner's workspace
    assert (await totals(api), await job_state(api, owned["job"])) == before
    after_versions = await api.call("GET", f"/api/prompts/{owned['prompt']}/versions")
    assert len(after_versions["data"]) == versions
    dataset = (await api.call("GET", f"/api/datasets/{owned['dataset']}"))["data"]
    assert dataset["itemCount"] == items


async def test_other_workspace_lists_are_empty(
    api: Api, other_api: Api, owned: dict[str, Any]
) -> None:
    assert await totals(api) == {"prompts": 1, "datasets": 1, "optimizations": 1}
    assert await totals(other_api) == {"prompts": 0, "datasets": 0, "optimizations": 0}
    for path in ("/api/prompts", "/api/datasets", "/api/optimizations?status=queued"):
        assert (await other_api.call("GET", path))["data"] == []
    named = await other_api.call("GET", "/api/prompts?name=" + "x")
    assert named["data"] == []


async def test_same_prompt_name_in_two_workspaces(api: Api, other_api: Api) -> None:
    mine = await api.prompt("a {x}", name="shared-name")
    theirs = await other_api.prompt("b {x}", name="shared-name")
    assert mine["id"] != theirs["id"]
    assert theirs["version"] == 1
    assert [p["id"] for p in (await api.call("GET", "/api/prompts"))["data"]] == [mine["id"]]


@pytest.mark.parametrize("foreign", ["promptId", "datasetId"])
async def test_optimization_with_another_workspaces_ids_is_404(
    api: Api, other_api: Api, owned: dict[str, Any], foreign: str
) -> None:
    theirs = await other_api.prompt("Answer: {question}", name="theirs")
    their_ds = await other_api.dataset(name="theirs")
    body = {"promptId": theirs["id"], "datasetId": their_ds["id"], "config": {"dryRun": True}}
    if foreign == "promptId":
        body["datasetId"] = owned["dataset"]
    else:
        body["promptId"] = owned["prompt"]
    before = (await totals(api), await totals(other_api))
    response = await api.client.post("/api/optimizations", headers=api.headers, json=body)
    error = assert_error(response, 404, "not_found")
    assert foreign in error["details"]
    assert (await totals(api), await totals(other_api)) == before


async def test_runner_output_stays_in_its_workspace(
    api: Api, other_api: Api, services: Services, owned: dict[str, Any]
) -> None:
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    assert await totals(other_api) == {"prompts": 0, "datasets": 0, "optimizations": 0}
    response = await other_api.client.get(
        f"/api/optimizations/{owned['job']}/results", headers=other_api.headers
    )
    assert_error(response, 404, "not_found")
