"""Reproducibility of a run: the same seed gives the same events and results, another seed
other ones, and a job paused at any step and resumed ends exactly like an uninterrupted run
with the same seed (timestamps and the job_paused/job_resumed pair aside)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.optimizer_helpers import (
    Control,
    Decide,
    Task,
    YieldingSim,
    after_phase,
    all_events,
    at_step,
    check_grammar,
    comparable,
    get_job,
    get_results,
    of_type,
    run_jobs,
    sample_task,
    scrub_results,
)
from tests.support.api import Api
from whetstone.clock import ManualClock
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.server.services import Services

COUNTERS = ("status", "initialScore", "bestScore", "currentIteration", "usage", "stopReason")


@pytest.fixture
def control() -> Control:
    return Control()


@pytest.fixture
def engine_factory(control: Control) -> EngineFactory:
    return control.factory(OptimizerFactory(providers={"sim": YieldingSim()}))


async def _finished(api: Api, job_id: str) -> tuple[dict[str, Any], list[Any], Any]:
    job = await get_job(api, job_id)
    events = await all_events(api, job_id)
    return job, events, await get_results(api, job_id)


async def _uninterrupted(api: Api, services: Services, task: Task, **config: Any) -> Any:
    job = await task.start(api, **config)
    await run_jobs(services)
    return await _finished(api, job["id"])


async def test_the_same_seed_gives_the_same_events_and_results(
    api: Api, services: Services
) -> None:
    task = await sample_task(api, "catalog-assistant")
    job_a, events_a, results_a = await _uninterrupted(api, services, task, maxIterations=4)
    job_b, events_b, results_b = await _uninterrupted(api, services, task, maxIterations=4)
    check_grammar(events_a)
    assert job_a["id"] != job_b["id"]
    assert comparable(events_a, job_a) == comparable(events_b, job_b)
    assert scrub_results(results_a, job_a) == scrub_results(results_b, job_b)
    assert [job_a[k] for k in COUNTERS] == [job_b[k] for k in COUNTERS]
    assert results_a["resultPromptId"] != results_b["resultPromptId"]  # two new versions


async def test_a_different_seed_gives_a_different_stream(api: Api, services: Services) -> None:
    task = await sample_task(api, "catalog-assistant")
    job_a, events_a, _ = await _uninterrupted(api, services, task, maxIterations=4, seed=1)
    job_b, events_b, _ = await _uninterrupted(api, services, task, maxIterations=4, seed=2)
    a, b = comparable(events_a, job_a)[1:], comparable(events_b, job_b)[1:]  # config aside
    assert a != b
    prompts = [
        [e["data"]["prompt"] for e in of_type(events, "mutation_generated")]
        for events in (events_a, events_b)
    ]
    assert prompts[0] != prompts[1]


async def test_concurrency_does_not_change_the_run(api: Api, services: Services) -> None:
    """Calls of an evaluation overlap differently at 1 and 16 in flight; the run is the same."""
    task = await sample_task(api, "dates-and-numbers")
    job_a, events_a, results_a = await _uninterrupted(
        api, services, task, maxIterations=3, concurrency=1
    )
    job_b, events_b, results_b = await _uninterrupted(
        api, services, task, maxIterations=3, concurrency=16
    )
    assert comparable(events_a, job_a)[1:] == comparable(events_b, job_b)[1:]
    assert scrub_results(results_a, job_a) == scrub_results(results_b, job_b)


PAUSE_POINTS: dict[str, Decide] = {
    "after the baseline's evaluation_start": after_phase("baseline_start"),
    "after the baseline": after_phase("baseline_eval"),
    "right after a proposal": after_phase("propose", 2, "minibatch"),
    "between a minibatch and its full evaluation": after_phase("minibatch", 1, "full"),
    "after a minibatch that was not promoted": after_phase("minibatch", 2, "propose"),
    "after a full evaluation": after_phase("full", 1),
    "at an iteration end": after_phase("iteration_end", 1),
    "at the second iteration end": after_phase("iteration_end", 2),
    "at step 9": at_step(9),
    "at step 17": at_step(17),
}


@pytest.mark.parametrize("where", list(PAUSE_POINTS))
async def test_pause_and_resume_end_like_an_uninterrupted_run(
    api: Api, services: Services, control: Control, where: str
) -> None:
    task = await sample_task(api, "catalog-assistant")
    job_a, events_a, results_a = await _uninterrupted(api, services, task, maxIterations=3)

    created = await task.start(api, maxIterations=3)
    control.arm(services.store, created["id"], PAUSE_POINTS[where])
    await run_jobs(services)
    paused = await get_job(api, created["id"])
    assert paused["status"] == "paused", f"the pause point {where!r} was never reached"
    assert control.fired_at is not None
    await api.call("POST", f"/api/optimizations/{created['id']}/resume")
    await run_jobs(services)
    job_b, events_b, results_b = await _finished(api, created["id"])

    kinds = [e["eventType"] for e in events_b]
    assert kinds.count("job_paused") == kinds.count("job_resumed") == 1
    assert kinds.index("job_resumed") == kinds.index("job_paused") + 1
    check_grammar(events_b)
    assert comparable(events_b, job_b) == comparable(events_a, job_a)
    assert scrub_results(results_b, job_b) == scrub_results(results_a, job_a)
    assert [job_b[k] for k in COUNTERS] == [job_a[k] for k in COUNTERS]
    version = (await api.call("GET", f"/api/prompts/{results_b['resultPromptId']}"))["data"]
    assert version["jobId"] == job_b["id"]
    assert version["source"] == "optimization"


async def test_pausing_after_every_step_changes_nothing(
    api: Api, services: Services, control: Control
) -> None:
    task = await sample_task(api, "capitals")
    job_a, events_a, results_a = await _uninterrupted(api, services, task, maxIterations=2)

    created = await task.start(api, maxIterations=2)
    pauses = 0
    for step in range(1, 200):
        control.arm(services.store, created["id"], at_step(step))
        await run_jobs(services)
        if (await get_job(api, created["id"]))["status"] != "paused":
            break
        pauses += 1
        await api.call("POST", f"/api/optimizations/{created['id']}/resume")
    job_b, events_b, results_b = await _finished(api, created["id"])

    assert job_b["status"] == "completed"
    assert pauses == len(of_type(events_b, "job_paused")) == len(of_type(events_b, "job_resumed"))
    assert pauses >= 10
    check_grammar(events_b)
    assert comparable(events_b, job_b) == comparable(events_a, job_a)
    assert scrub_results(results_b, job_b) == scrub_results(results_a, job_a)


async def test_paused_time_does_not_count_toward_the_timeout(
    api: Api, services: Services, control: Control, clock: ManualClock
) -> None:
    """An hour passes while the job is paused; its 5 s timeout counts running time only."""
    task = await sample_task(api, "capitals")
    job = await task.start(api, timeout=5000, maxIterations=3)
    control.arm(services.store, job["id"], after_phase("minibatch", 2))
    await run_jobs(services)
    assert (await get_job(api, job["id"]))["status"] == "paused"
    clock.advance(3600)
    await api.call("POST", f"/api/optimizations/{job['id']}/resume")
    await run_jobs(services)
    events = await all_events(api, job["id"])
    check_grammar(events)
    assert (await get_results(api, job["id"]))["stopReason"] == "max_iterations"
