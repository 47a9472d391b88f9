"""Whole optimization runs of the three simulated sample tasks through the REST API and the
real runner: completion, results, the new prompt version, and the event grammar."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.engine.optimizer_helpers import (
    ORDINARY,
    SAMPLES,
    Event,
    all_events,
    check_grammar,
    get_job,
    get_results,
    of_type,
    run_jobs,
    sample_task,
)
from tests.support.api import Api
from tests.support.contract import CACHE_USAGE_FIELDS, USAGE_FIELDS
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.server.services import Services

# What each sample must at least gain over its baseline (capitals: one rule to learn).
MIN_GAIN = {"capitals": 0.5, "dates-and-numbers": 0.0, "catalog-assistant": 0.0}


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


async def _prompt(api: Api, prompt_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.call("GET", f"/api/prompts/{prompt_id}"))["data"]
    return data


@pytest.mark.parametrize("name", SAMPLES)
async def test_sample_task_runs_to_completion(api: Api, services: Services, name: str) -> None:
    task = await sample_task(api, name)
    created = await task.start(api)
    assert created["status"] == "queued"
    await run_jobs(services)

    job = await get_job(api, created["id"])
    events = await all_events(api, created["id"])
    results = await get_results(api, created["id"])
    run = check_grammar(events, min_improvement=job["config"]["minImprovement"])

    assert job["status"] == results["status"] == "completed"
    assert job["stopReason"] == results["stopReason"] == "max_iterations"
    assert results["iterations"] == job["currentIteration"] == task.config["maxIterations"]
    assert run.iterations == task.config["maxIterations"]
    assert results["finalScore"] > results["initialScore"]
    assert results["finalScore"] - results["initialScore"] >= MIN_GAIN[name]
    assert results["simulated"] is True
    assert job["simulated"] is True

    # Results agree with the job, the stream and the job_complete event.
    assert events[-1]["data"]["results"] == results
    assert results["jobId"] == job["id"]
    assert results["initialScore"] == job["initialScore"] == run.initial
    assert results["finalScore"] == job["bestScore"] == run.best
    assert results["improvement"] == pytest.approx(results["finalScore"] - results["initialScore"])
    if results["initialScore"]:
        expected = results["improvement"] / results["initialScore"]
        assert results["relativeImprovement"] == pytest.approx(expected)
    else:
        assert results["relativeImprovement"] is None
    assert results["usage"] == job["usage"] == run.usage
    assert results["resultPromptId"] == job["resultPromptId"]
    assert job["lastEventId"] == len(events)
    closes = of_type(events, "iteration_complete")
    assert results["history"][0] == {
        "iteration": 0,
        "bestScore": run.initial,
        "scores": [run.initial],
    }
    assert results["history"][1:] == [
        {
            "iteration": e["iteration"],
            "bestScore": e["data"]["bestScore"],
            "scores": e["data"]["scores"],
        }
        for e in closes
    ]

    # The best prompt is the last new best, and it became version 2 of the prompt.
    bests = of_type(events, "new_best")
    assert bests, "every sample improves on its baseline"
    assert results["bestPrompt"] == bests[-1]["data"]["prompt"]
    assert results["resultPromptId"] not in (task.prompt["id"], None)
    version = await _prompt(api, results["resultPromptId"])
    assert version["source"] == "optimization"
    assert version["jobId"] == job["id"]
    assert version["template"] == results["bestPrompt"]["template"]
    assert version["name"] == task.prompt["name"]
    assert version["version"] == 2
    assert version["isLatest"] is True
    assert version["variables"] == task.prompt["variables"]
    versions = await api.call("GET", f"/api/prompts/{task.prompt['id']}/versions")
    assert [v["id"] for v in versions["data"]] == [task.prompt["id"], version["id"]]
    assert versions["data"][0]["source"] == "user"

    # job_started carries the stored config; every closed iteration tried every slot.
    started = events[0]["data"]
    assert started["jobId"] == job["id"]
    assert started["config"] == job["config"]
    assert (started["promptId"], started["datasetId"]) == (task.prompt["id"], task.dataset["id"])
    per_iteration = [
        len([e for e in of_type(events, "mutation_generated") if e["iteration"] == i])
        for i in range(1, run.iterations + 1)
    ]
    assert per_iteration == [task.config["candidatesPerIteration"]] * run.iterations
    assert {e["eventType"] for e in events} == ORDINARY
    baseline = of_type(events, "evaluation_start")[0]["data"]
    assert baseline["candidateId"] == "baseline"
    assert baseline["itemCount"] == task.item_count


async def test_a_run_that_beats_nothing_keeps_the_original_prompt(
    api: Api, services: Services
) -> None:
    """compress only removes instructions: nothing beats the capitals baseline, so the
    result is the original prompt and no version is added."""
    task = await sample_task(api, "capitals")
    created = await task.start(api, mutationTypes=["compress"], maxIterations=2)
    await run_jobs(services)

    events = await all_events(api, created["id"])
    results = await get_results(api, created["id"])
    run = check_grammar(events)
    assert results["status"] == "completed"
    assert results["stopReason"] == "max_iterations"
    assert of_type(events, "new_best") == []
    assert run.improved_at == []
    assert results["finalScore"] == results["initialScore"] == run.initial
    assert results["improvement"] == 0
    assert results["resultPromptId"] == task.prompt["id"]
    assert results["bestPrompt"] == {"template": task.prompt["template"]}
    versions = await api.call("GET", f"/api/prompts/{task.prompt['id']}/versions")
    assert len(versions["data"]) == 1


async def test_event_payloads_are_consistent_with_the_job(api: Api, services: Services) -> None:
    task = await sample_task(api, "dates-and-numbers")
    created = await task.start(api, maxIterations=3)
    await run_jobs(services)
    events = await all_events(api, created["id"])
    check_grammar(events)

    assert all(e["jobId"] == created["id"] for e in events)
    for e in events:
        if "iteration" in e["data"]:
            assert e["data"]["iteration"] == e["iteration"]
        if "usage" in e["data"] and e["data"]["usage"] is not None:
            assert set(e["data"]["usage"]) == USAGE_FIELDS | CACHE_USAGE_FIELDS
    for full in [e for e in of_type(events, "evaluation_start") if e["data"]["phase"] == "full"]:
        assert full["data"]["itemCount"] == task.item_count
    for e in of_type(events, "evaluation_complete"):
        if e["data"]["phase"] == "minibatch":
            assert e["data"]["promoted"] == (e["data"]["score"] > e["data"]["parentScore"])
    # Every candidate's parents were fully evaluated before it was proposed.
    scored = {"baseline"}
    for e in events:
        data = e["data"]
        if e["eventType"] == "mutation_generated":
            assert set(data["parentIds"]) <= scored, data
        if e["eventType"] == "evaluation_complete" and data.get("phase") == "full":
            scored.add(data["candidateId"])


def _mutations() -> list[tuple[str, Any]]:
    """Ways to break a good stream, each of which the checker must reject."""

    def drop(kind: str) -> Any:
        def f(events: list[Event]) -> None:
            events.remove(next(e for e in events if e["eventType"] == kind))
            for i, e in enumerate(events, 1):
                e["id"] = i

        return f

    def swap_first_iteration(events: list[Event]) -> None:
        i = next(i for i, e in enumerate(events) if e["eventType"] == "mutation_generated")
        events[i]["eventType"], events[i + 1]["eventType"] = (
            "evaluation_start",
            "mutation_generated",
        )

    def fake_best(events: list[Event]) -> None:
        close = next(e for e in events if e["eventType"] == "iteration_complete")
        close["data"]["bestScore"] = 0.999

    def gap(events: list[Event]) -> None:
        events[3]["id"] = 99

    def two_terminals(events: list[Event]) -> None:
        events.insert(-1, {**copy.deepcopy(events[-1]), "id": len(events)})
        events[-1]["id"] = len(events)

    def wrong_stage(events: list[Event]) -> None:
        events[1]["stage"] = "evaluation"

    return [
        ("no iteration_start", drop("iteration_start")),
        ("no new_best", drop("new_best")),
        ("no iteration_complete", drop("iteration_complete")),
        ("order", swap_first_iteration),
        ("best score", fake_best),
        ("id gap", gap),
        ("two terminal events", two_terminals),
        ("baseline stage", wrong_stage),
    ]


async def test_the_grammar_checker_rejects_broken_streams(api: Api, services: Services) -> None:
    task = await sample_task(api, "capitals")
    created = await task.start(api, maxIterations=2)
    await run_jobs(services)
    events = await all_events(api, created["id"])
    check_grammar(events)
    for label, breaks in _mutations():
        broken = copy.deepcopy(events)
        breaks(broken)
        with pytest.raises(AssertionError):  # noqa: PT012 - the fail() is the report
            check_grammar(broken)
            pytest.fail(f"the checker accepted a stream with: {label}")
