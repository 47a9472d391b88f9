"""``POST /api/optimizations`` with a bad config or ids: 400/404 naming the field, no job made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error, totals
from tests.support.api import Api

BAD_CONFIG: list[tuple[dict[str, Any], str]] = [
    ({"maxIterations": 0}, "config.maxIterations"),
    ({"maxIterations": 101}, "config.maxIterations"),
    ({"maxIterations": "ten"}, "config.maxIterations"),
    ({"maxIterations": 3.5}, "config.maxIterations"),
    ({"targetScore": -0.01}, "config.targetScore"),
    ({"targetScore": 1.01}, "config.targetScore"),
    ({"patience": 0}, "config.patience"),
    ({"patience": 51}, "config.patience"),
    ({"minImprovement": -0.01}, "config.minImprovement"),
    ({"minImprovement": 1.01}, "config.minImprovement"),
    ({"mutationStrength": -0.01}, "config.mutationStrength"),
    ({"mutationStrength": 1.01}, "config.mutationStrength"),
    ({"candidatesPerIteration": 0}, "config.candidatesPerIteration"),
    ({"candidatesPerIteration": 33}, "config.candidatesPerIteration"),
    ({"concurrency": 0}, "config.concurrency"),
    ({"concurrency": 257}, "config.concurrency"),
    ({"timeout": 0}, "config.timeout"),
    ({"timeout": -1}, "config.timeout"),
    ({"seed": -1}, "config.seed"),
    ({"seed": "abc"}, "config.seed"),
    ({"budget": {"maxCostUsd": 0}}, "config.budget.maxCostUsd"),
    ({"budget": {"maxLlmCalls": 0}}, "config.budget.maxLlmCalls"),
    ({"budget": {"maxTokens": -5}}, "config.budget.maxTokens"),
    ({"budget": {"maxDollars": 5}}, "config.budget.maxDollars"),
    ({"budget": 5}, "config.budget"),
    ({"preserveVariables": "maybe"}, "config.preserveVariables"),
    ({"dryRun": "maybe"}, "config.dryRun"),
    ({"tuningParams": []}, "config.tuningParams"),
    ({"mutationTypes": []}, "config.mutationTypes"),
    ({"mutationTypes": "rephrase"}, "config.mutationTypes"),
    ({"evaluationMetrics": []}, "config.evaluationMetrics"),
    ({"evaluationMetrics": [{"name": "exact_match", "weight": 0}]}, "config.evaluationMetrics"),
    ({"evaluationMetrics": [{"name": "exact_match", "bogus": 1}]}, "config.evaluationMetrics"),
    ({"model": "gpt-4o"}, "config.model"),
    ({"model": "openai/"}, "config.model"),
    ({"mutationModel": "Open AI/x"}, "config.mutationModel"),
    ({"judgeModel": 5}, "config.judgeModel"),
    ({"colour": "red"}, "config.colour"),
    ({"maxIteration": 3}, "config.maxIteration"),
]

UNKNOWN_NAMES: list[tuple[dict[str, Any], str]] = [
    ({"mutationTypes": ["rephrase", "telepathy"]}, "config.mutationTypes"),
    ({"evaluationMetrics": ["exact_match", "vibes"]}, "config.evaluationMetrics"),
    ({"evaluationMetrics": [{"name": "vibes"}]}, "config.evaluationMetrics"),
    ({"model": "acme/big"}, "config.model"),
    ({"taskModel": "acme/big"}, "config.taskModel"),
    ({"mutationModel": "acme/big"}, "config.mutationModel"),
    ({"judgeModel": "acme/big"}, "config.judgeModel"),
]

GOOD_EDGES: list[dict[str, Any]] = [
    {"maxIterations": 1, "patience": 1, "candidatesPerIteration": 1, "concurrency": 1},
    {"maxIterations": 100, "patience": 50, "candidatesPerIteration": 32, "concurrency": 256},
    {"targetScore": 0, "minImprovement": 0, "mutationStrength": 0, "seed": 0},
    {"targetScore": 1, "minImprovement": 1, "mutationStrength": 1},
    {"mutationTypes": ["reflective", "history", "fewshot", "rephrase", "crossover", "compress"]},
    {"model": "anthropic/claude-3-5-haiku", "judgeModel": "openai/gpt-4o-mini"},
    {"budget": {"maxCostUsd": 0.5, "maxLlmCalls": 1, "maxTokens": 1}},
]


@pytest.fixture
async def ids(api: Api) -> AsyncIterator[dict[str, str]]:
    """A usable prompt and dataset; after the test, no job (nor anything else) was made."""
    prompt = await api.prompt("Answer: {question}", name="cfg")
    dataset = await api.dataset()
    before = await totals(api)
    yield {"promptId": prompt["id"], "datasetId": dataset["id"]}
    assert await totals(api) == before


async def _post(api: Api, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post("/api/optimizations", json=body, headers=api.headers)


@pytest.mark.parametrize(("config", "field"), BAD_CONFIG)
async def test_bad_config_value(
    api: Api, ids: dict[str, str], config: dict[str, Any], field: str
) -> None:
    response = await _post(api, {**ids, "config": {"dryRun": True, **config}})
    error = assert_error(response, 400, "invalid_request", field)
    leaf = field.rsplit(".", 1)[-1]
    assert leaf in error["message"], error["message"]


@pytest.mark.parametrize(("config", "field"), UNKNOWN_NAMES)
async def test_unknown_names_list_the_valid_ones(
    api: Api, ids: dict[str, str], config: dict[str, Any], field: str
) -> None:
    response = await _post(api, {**ids, "config": config})
    error = assert_error(response, 400, "invalid_request", field)
    assert "valid" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"datasetId": "x"}, "promptId"),
        ({"promptId": "x"}, "datasetId"),
        ({"promptId": "", "datasetId": "x"}, "promptId"),
        ({"promptId": 5, "datasetId": "x"}, "promptId"),
        ({"promptId": "x", "datasetId": "y", "config": "fast"}, "config"),
        ({"promptId": "x", "datasetId": "y", "config": None}, "config"),
        ({"promptId": "x", "datasetId": "y", "priority": 1}, "priority"),
    ],
)
async def test_bad_top_level_fields(
    api: Api, ids: dict[str, str], body: dict[str, Any], field: str
) -> None:
    assert_error(await _post(api, body), 400, "invalid_request", field)


@pytest.mark.parametrize("config", GOOD_EDGES)
async def test_edge_values_are_accepted(api: Api, config: dict[str, Any]) -> None:
    prompt = await api.prompt("Answer: {question}", name="edges")
    dataset = await api.dataset()
    body = {"promptId": prompt["id"], "datasetId": dataset["id"], "config": config}
    job = (await api.call("POST", "/api/optimizations", 201, json=body))["data"]
    for key, value in config.items():
        assert job["config"][key] == value


@pytest.mark.parametrize("missing", ["promptId", "datasetId"])
async def test_unknown_ids_are_404(api: Api, ids: dict[str, str], missing: str) -> None:
    error = assert_error(await _post(api, {**ids, missing: "nope_123"}), 404, "not_found")
    assert missing in error["details"]
    assert "nope_123" in error["message"]


async def _dataset_job(
    api: Api, items: list[dict[str, Any]], **config: Any
) -> tuple[httpx.Response, dict[str, str]]:
    prompt = await api.prompt("Q: {question} C: {context}", name="two-vars")
    dataset = await api.dataset(items, name="ds2")
    ids = {"promptId": prompt["id"], "datasetId": dataset["id"]}
    before = await totals(api)
    response = await _post(api, {**ids, "config": config})
    if response.status_code != 201:
        assert await totals(api) == before
    return response, ids


async def test_empty_dataset_is_400(api: Api) -> None:
    response, _ = await _dataset_job(api, [])
    error = assert_error(response, 400, "invalid_request", "datasetId")
    assert "items" in error["message"]


@pytest.mark.parametrize(
    "items",
    [
        [{"input": {"question": "q"}, "expectedOutput": "a"}],
        [
            {"input": {"question": "q", "context": "c"}, "expectedOutput": "a"},
            {"input": {"question": "q"}, "expectedOutput": "a"},
        ],
        [{"input": {"Question": "q", "Context": "c"}, "expectedOutput": "a"}],
    ],
    ids=["all-lack", "one-lacks", "wrong-case"],
)
async def test_items_lacking_prompt_variables_are_400(
    api: Api, items: list[dict[str, Any]]
) -> None:
    response, _ = await _dataset_job(api, items)
    error = assert_error(response, 400, "invalid_request", "datasetId")
    assert "context" in error["message"]


async def test_items_without_expected_output_need_metrics(api: Api) -> None:
    response, ids = await _dataset_job(api, [{"input": {"question": "q", "context": "c"}}])
    error = assert_error(response, 400, "invalid_request", "config.evaluationMetrics")
    assert "evaluationMetrics" in error["message"]
    ok = await _post(api, {**ids, "config": {"evaluationMetrics": ["g_eval"]}})
    assert ok.status_code == 201, ok.text
