"""``POST /api/optimizations`` checks each metric's ``params`` when the job is created."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error
from tests.support.api import Api

PATH = "/api/optimizations"


async def ids(api: Api) -> dict[str, str]:
    prompt = await api.prompt("Answer the question: {question}", name="metric-params")
    dataset = await api.dataset()
    return {"promptId": prompt["id"], "datasetId": dataset["id"]}


async def post(api: Api, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post(PATH, json=body, headers=api.headers)


async def job_count(api: Api) -> int:
    total: int = (await api.call("GET", PATH))["meta"]["total"]
    return total


async def test_regex_without_a_pattern_is_rejected_naming_its_params(api: Api) -> None:
    body = {
        **await ids(api),
        "config": {"dryRun": True, "evaluationMetrics": [{"name": "regex", "params": {}}]},
    }
    response = await post(api, body)
    error = assert_error(response, 400, "invalid_request")
    assert "config.evaluationMetrics.0.params" in error["details"]
    assert "pattern" in error["details"]["config.evaluationMetrics.0.params"]
    assert await job_count(api) == 0


@pytest.mark.parametrize(
    ("metrics", "key", "says"),
    [
        ([{"name": "regex", "params": {"pattern": "("}}], "0", "does not compile"),
        ([{"name": "regex", "params": {"pattern": 5}}], "0", "pattern"),
        (["exact_match", {"name": "regex", "params": {}}], "1", "pattern"),
        ([{"name": "json_match", "params": {"fields": "name"}}], "0", "fields"),
        ([{"name": "g_eval", "params": {"aspects": ["vibes"]}}], "0", "vibes"),
        ([{"name": "g_eval", "params": {"rubric": 5}}], "0", "rubric"),
    ],
)
async def test_bad_metric_params_are_400_naming_the_metric(
    api: Api, metrics: list[Any], key: str, says: str
) -> None:
    body = {**await ids(api), "config": {"dryRun": True, "evaluationMetrics": metrics}}
    error = assert_error(await post(api, body), 400, "invalid_request")
    field = f"config.evaluationMetrics.{key}.params"
    assert list(error["details"]) == [field]
    assert says in error["details"][field]
    assert await job_count(api) == 0


@pytest.mark.parametrize(
    "metrics",
    [
        [{"name": "regex", "params": {"pattern": r"^\d+$", "fullMatch": True}}],
        [{"name": "json_match", "params": {"fields": ["a.b"]}}],
        [{"name": "g_eval", "params": {"rubric": "Be right.", "aspects": ["tone"]}}],
        [{"name": "contains", "params": {"value": "4"}}, "exact_match"],
    ],
)
async def test_good_metric_params_make_a_job(api: Api, metrics: list[Any]) -> None:
    body = {**await ids(api), "config": {"dryRun": True, "evaluationMetrics": metrics}}
    response = await post(api, body)
    assert response.status_code == 201, response.text
    assert await job_count(api) == 1
