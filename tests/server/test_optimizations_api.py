"""``/api/optimizations``: creation with config defaults, listing, events and results."""

from __future__ import annotations

from typing import Any

from tests.server.helpers import (
    CONFIG_FIELDS,
    EVENT_FIELDS,
    JOB_FIELDS,
    assert_error,
    assert_fields,
    assert_list_meta,
)
from tests.support.api import Api
from tests.support.contract import RESULTS_FIELDS, USAGE_FIELDS
from whetstone.server.services import Services


async def _create(api: Api, config: dict[str, Any] | None = None, name: str = "p") -> Any:
    prompt = await api.prompt("Answer: {question}", name=name)
    dataset = await api.dataset()
    body: dict[str, Any] = {"promptId": prompt["id"], "datasetId": dataset["id"]}
    if config is not None:
        body["config"] = config
    response = await api.call("POST", "/api/optimizations", 201, json=body)
    assert set(response) == {"data", "meta"}
    return response["data"]


def _metric_names(metrics: list[Any]) -> list[str]:
    return [m if isinstance(m, str) else m["name"] for m in metrics]


async def test_create_fills_every_config_default(api: Api, services: Services) -> None:
    job = await _create(api, {})
    assert_fields(job, JOB_FIELDS)
    assert job["status"] == "queued"
    assert (job["currentIteration"], job["lastEventId"]) == (0, 0)
    assert job["initialScore"] is None
    assert job["bestScore"] is None
    assert job["resultPromptId"] is None
    assert job["usage"] == {
        "llmCalls": 0,
        "inputTokens": 0,
        "outputTokens": 0,
        "costUsd": 0,
        "cachedCalls": 0,
        "cachedCostUsd": 0,
    }
    assert job.get("startedAt") is None
    assert job.get("finishedAt") is None
    config = job["config"]
    assert config.keys() >= CONFIG_FIELDS, sorted(CONFIG_FIELDS - config.keys())
    expected = {
        "maxIterations": 10,
        "targetScore": None,
        "patience": None,
        "minImprovement": 0.01,
        "mutationStrength": 0.5,
        "candidatesPerIteration": 4,
        "preserveVariables": True,
        "preserveStructure": False,
        "timeout": 3_600_000,
        "dryRun": False,
        "budget": None,
        "concurrency": 8,
        "tuningParams": {},
    }
    assert {k: config[k] for k in expected} == expected
    model = services.settings.default_model
    assert [config[k] for k in ("model", "taskModel", "mutationModel", "judgeModel")] == [model] * 4
    assert _metric_names(config["evaluationMetrics"]) == ["exact_match"]
    assert isinstance(config["seed"], int)
    assert config["seed"] >= 0
    fetched = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert fetched["config"] == config


async def test_create_without_config_uses_defaults(api: Api) -> None:
    job = await _create(api, None)
    assert job["config"]["maxIterations"] == 10
    assert isinstance(job["config"]["seed"], int)


async def test_create_keeps_given_values(api: Api) -> None:
    config = {
        "maxIterations": 2,
        "targetScore": 0.9,
        "patience": 3,
        "mutationTypes": ["rephrase", "compress"],
        "evaluationMetrics": ["contains", {"name": "token_f1", "weight": 2, "params": {"a": 1}}],
        "dryRun": True,
        "budget": {"maxLlmCalls": 50},
        "seed": 1234,
        "tuningParams": {"rephrase": {"n": 2}},
    }
    got = (await _create(api, config))["config"]
    assert (got["maxIterations"], got["targetScore"], got["patience"]) == (2, 0.9, 3)
    assert got["mutationTypes"] == ["rephrase", "compress"]
    assert _metric_names(got["evaluationMetrics"]) == ["contains", "token_f1"]
    assert got["evaluationMetrics"][1]["weight"] == 2
    assert got["seed"] == 1234
    assert got["dryRun"] is True
    assert got["budget"]["maxLlmCalls"] == 50
    assert got["tuningParams"] == {"rephrase": {"n": 2}}


async def test_models_per_role(api: Api) -> None:
    config = {"model": "openai/gpt-4o", "taskModel": "anthropic/claude-3-5-haiku"}
    got = (await _create(api, config))["config"]
    roles = [got[k] for k in ("model", "taskModel", "mutationModel", "judgeModel")]
    assert roles == [
        "openai/gpt-4o",
        "anthropic/claude-3-5-haiku",
        "openai/gpt-4o",
        "openai/gpt-4o",
    ]


async def test_dry_run_puts_every_role_on_sim(api: Api) -> None:
    config = {"dryRun": True, "model": "openai/gpt-4o", "judgeModel": "anthropic/claude-3-5-haiku"}
    got = (await _create(api, config))["config"]
    for role in ("model", "taskModel", "mutationModel", "judgeModel"):
        assert got[role].startswith("sim/"), (role, got[role])


async def test_random_seeds_differ(api: Api) -> None:
    seeds = {(await _create(api, {}, name=f"p{i}"))["config"]["seed"] for i in range(4)}
    assert len(seeds) > 1


async def test_list_newest_first_with_status_filter_and_paging(api: Api) -> None:
    jobs = [await _create(api, {"dryRun": True}, name=f"p{i}") for i in range(3)]
    await api.call("POST", f"/api/optimizations/{jobs[1]['id']}/cancel")
    body = await api.call("GET", "/api/optimizations")
    assert_list_meta(body, total=3, limit=body["meta"]["limit"], offset=0)
    assert [j["id"] for j in body["data"]] == [j["id"] for j in reversed(jobs)]
    for j in body["data"]:
        assert_fields(j, JOB_FIELDS)
    page = await api.call("GET", "/api/optimizations?limit=2&offset=1")
    assert_list_meta(page, total=3, limit=2, offset=1)
    assert [j["id"] for j in page["data"]] == [jobs[1]["id"], jobs[0]["id"]]
    queued = await api.call("GET", "/api/optimizations?status=queued")
    assert_list_meta(queued, total=2, limit=queued["meta"]["limit"], offset=0)
    assert [j["id"] for j in queued["data"]] == [jobs[2]["id"], jobs[0]["id"]]
    cancelled = await api.call("GET", "/api/optimizations?status=cancelled")
    assert [j["id"] for j in cancelled["data"]] == [jobs[1]["id"]]
    assert (await api.call("GET", "/api/optimizations?status=completed"))["meta"]["total"] == 0


async def test_events_paging(api: Api, services: Services) -> None:
    job = await _create(api, {"maxIterations": 3, "dryRun": True})
    empty = await api.call("GET", f"/api/optimizations/{job['id']}/events")
    assert empty["data"] == []
    assert (empty["meta"]["headEventId"], empty["meta"]["hasMore"]) == (0, False)
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    everything = await api.call("GET", f"/api/optimizations/{job['id']}/events")
    events = everything["data"]
    head = len(events)
    assert [e["id"] for e in events] == list(range(1, head + 1))
    assert (everything["meta"]["headEventId"], everything["meta"]["hasMore"]) == (head, False)
    assert (everything["meta"]["afterEventId"], everything["meta"]["limit"]) == (0, 500)
    for e in events:
        assert_fields(e, EVENT_FIELDS)
        assert e["jobId"] == job["id"]
        assert e["timestamp"].endswith("Z")
    first = await api.call("GET", f"/api/optimizations/{job['id']}/events?limit=2")
    assert [e["id"] for e in first["data"]] == [1, 2]
    assert (first["meta"]["headEventId"], first["meta"]["hasMore"]) == (head, True)
    middle = await api.call("GET", f"/api/optimizations/{job['id']}/events?afterEventId=2&limit=3")
    assert middle["data"] == events[2:5]
    assert middle["meta"]["hasMore"] is True
    tail = await api.call(
        "GET", f"/api/optimizations/{job['id']}/events?afterEventId={head - 2}&limit=2"
    )
    assert tail["data"] == events[-2:]
    assert tail["meta"]["hasMore"] is False
    beyond = await api.call("GET", f"/api/optimizations/{job['id']}/events?afterEventId={head}")
    assert beyond["data"] == []
    assert beyond["meta"]["headEventId"] == head
    job_now = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert job_now["lastEventId"] == head


async def test_results_409_until_terminal_then_results(api: Api, services: Services) -> None:
    job = await _create(api, {"maxIterations": 3, "dryRun": True})
    response = await api.client.get(f"/api/optimizations/{job['id']}/results", headers=api.headers)
    error = assert_error(response, 409, "invalid_transition")
    assert "queued" in error["message"]
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    done = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert done["status"] == "completed"
    assert done["startedAt"] is not None
    assert done["finishedAt"] is not None
    assert done["currentIteration"] == 3
    results = (await api.call("GET", f"/api/optimizations/{job['id']}/results"))["data"]
    assert_fields(results, RESULTS_FIELDS)
    assert (results["jobId"], results["status"]) == (job["id"], "completed")
    assert (results["stopReason"], results["iterations"]) == ("max_iterations", 3)
    assert [h["iteration"] for h in results["history"]] == [1, 2, 3]
    for entry in results["history"]:
        assert {"iteration", "bestScore", "scores"} <= entry.keys()
    assert results["bestPrompt"]["template"] == "Answer: {question}"
    assert results["usage"].keys() >= USAGE_FIELDS
    if results["initialScore"] is not None and results["finalScore"] is not None:
        assert results["improvement"] == results["finalScore"] - results["initialScore"]
    # the placeholder engine beats nothing: the original prompt is the result, no version added
    assert results["resultPromptId"] == done["resultPromptId"] == job["promptId"]
    versions = await api.call("GET", f"/api/prompts/{job['promptId']}/versions")
    assert len(versions["data"]) == 1
    last = (await api.events(job["id"]))[-1]
    assert last["eventType"] == "job_complete"
    assert last["data"]["results"] == results


async def test_results_of_a_job_cancelled_while_queued(api: Api) -> None:
    job = await _create(api, {"dryRun": True})
    await api.call("POST", f"/api/optimizations/{job['id']}/cancel", json={"reason": "no"})
    results = (await api.call("GET", f"/api/optimizations/{job['id']}/results"))["data"]
    assert_fields(results, RESULTS_FIELDS)
    assert (results["status"], results["stopReason"]) == ("cancelled", "cancelled")
    assert results["bestPrompt"]["template"] == "Answer: {question}"
    assert results["iterations"] == 0
    assert results["history"] == []
