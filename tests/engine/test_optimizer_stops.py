"""Stop rules of a real optimization run, each with its ``stopReason``: max_iterations,
target_score, patience, timeout (running time from the injected clock), budget (calls,
tokens, USD) and cancel. The simulator sits behind a provider that yields to the event loop
on every call, as a network call would, so calls of an evaluation really overlap."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.optimizer_helpers import (
    Control,
    YieldingSim,
    after_phase,
    all_events,
    check_grammar,
    get_job,
    get_results,
    of_type,
    run_jobs,
    sample_task,
)
from tests.support.api import Api
from whetstone.clock import ManualClock
from whetstone.domain.status import JobAction
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.server.services import Services


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> ManualClock:
    """1 ms per reading, or ``request.param`` seconds (indirect parametrization)."""
    return ManualClock(tick=getattr(request, "param", 0.001))


@pytest.fixture
def sim() -> YieldingSim:
    return YieldingSim()


@pytest.fixture
def control() -> Control:
    return Control()


@pytest.fixture
def engine_factory(control: Control, sim: YieldingSim) -> EngineFactory:
    return control.factory(OptimizerFactory(providers={"sim": sim}))


async def _run(api: Api, services: Services, name: str = "capitals", **config: Any) -> Any:
    task = await sample_task(api, name)
    job = await task.start(api, **config)
    await run_jobs(services)
    return job["id"], await all_events(api, job["id"]), await get_results(api, job["id"])


async def test_max_iterations(api: Api, services: Services) -> None:
    _, events, results = await _run(api, services, maxIterations=2)
    assert check_grammar(events).iterations == results["iterations"] == 2
    assert results["stopReason"] == "max_iterations"
    assert [e["iteration"] for e in of_type(events, "iteration_start")] == [1, 2]


async def test_target_score_stops_at_the_end_of_the_iteration_that_reaches_it(
    api: Api, services: Services
) -> None:
    _, events, results = await _run(api, services, targetScore=0.9, maxIterations=6)
    run = check_grammar(events)
    assert results["stopReason"] == "target_score"
    assert results["finalScore"] >= 0.9
    first = next(e["iteration"] for e in of_type(events, "new_best") if e["data"]["score"] >= 0.9)
    assert results["iterations"] == run.iterations == first < 6


async def test_a_target_the_baseline_meets_stops_after_iteration_0(
    api: Api, services: Services
) -> None:
    job_id, events, results = await _run(api, services, targetScore=0.15)
    check_grammar(events)
    kinds = [e["eventType"] for e in events]
    assert kinds == ["job_started", "evaluation_start", "evaluation_complete", "job_complete"]
    assert all(e["iteration"] == 0 for e in events)
    assert results["stopReason"] == "target_score"
    assert results["iterations"] == 0
    assert results["finalScore"] == results["initialScore"] == 0.2
    job = await get_job(api, job_id)
    assert results["resultPromptId"] == job["promptId"]


async def test_patience_without_any_improvement(api: Api, services: Services) -> None:
    """compress never adds what capitals needs: nothing improves after the baseline."""
    _, events, results = await _run(
        api, services, mutationTypes=["compress"], patience=2, maxIterations=10
    )
    run = check_grammar(events)
    assert results["stopReason"] == "patience"
    assert run.improved_at == []
    assert results["iterations"] == run.iterations == 2


@pytest.mark.parametrize(
    ("name", "patience"), [("catalog-assistant", 3), ("dates-and-numbers", 1), ("capitals", 2)]
)
async def test_patience_counts_iterations_since_the_last_new_best(
    api: Api, services: Services, name: str, patience: int
) -> None:
    _, events, results = await _run(api, services, name, patience=patience, maxIterations=40)
    run = check_grammar(events)
    assert results["stopReason"] == "patience"
    last = run.improved_at[-1] if run.improved_at else 0
    assert results["iterations"] == run.iterations == last + patience
    gaps = [b - a for a, b in zip([0, *run.improved_at], run.improved_at, strict=False)]
    assert all(gap <= patience for gap in gaps), "patience would have stopped it earlier"


@pytest.mark.parametrize("clock", [0.1], indirect=True)
async def test_timeout_from_the_running_clock(api: Api, services: Services) -> None:
    """Every clock reading moves 100 ms: a 1 s timeout strikes inside iteration 1."""
    _, events, results = await _run(api, services, timeout=1000)
    run = check_grammar(events)
    assert results["stopReason"] == "timeout"
    assert events[-2]["eventType"] == "iteration_complete"  # the partial iteration is closed
    assert run.iterations == results["iterations"] >= 1
    assert len(of_type(events, "mutation_generated")) < 3 * run.iterations


@pytest.mark.parametrize(("phase", "nth"), [("propose", 2), ("minibatch", 1), ("full", 1)])
async def test_timeout_inside_an_evaluation_aborts_it_and_closes_the_iteration(
    api: Api, services: Services, control: Control, clock: ManualClock, phase: str, nth: int
) -> None:
    """The clock jumps 2 s inside the chosen step; the next step is the timed-out one."""
    task = await sample_task(api, "capitals")
    job = await task.start(api, timeout=1000)
    next_phase = {"propose": "minibatch", "minibatch": "full", "full": None}[phase]
    decide = after_phase(phase, nth, next_phase)
    control.arm(services.store, job["id"], decide, None, lambda: clock.advance(2))
    await run_jobs(services)
    events = await all_events(api, job["id"])
    run = check_grammar(events)
    assert (await get_results(api, job["id"]))["stopReason"] == "timeout"
    assert events[-2]["eventType"] == "iteration_complete"
    assert run.iterations == 1
    assert run.aborted == ([] if next_phase is None else ["timeout"])
    if next_phase is not None:
        cut = {k: events[-3]["data"][k] for k in ("candidateId", "score", "phase", "aborted")}
        assert cut == {**cut, "score": None, "phase": next_phase, "aborted": "timeout"}


@pytest.mark.parametrize(
    ("clock", "config", "why"),
    [
        (0.6, {"timeout": 1000}, "timeout"),  # the baseline's first step uses up the 1 s
        (0.001, {"budget": {"maxLlmCalls": 5}}, "budget"),  # 5 of its 20 calls
    ],
    indirect=["clock"],
)
async def test_a_stop_inside_the_baseline_closes_its_evaluation(
    api: Api, services: Services, config: dict[str, Any], why: str
) -> None:
    _, events, results = await _run(api, services, **config)
    assert results["stopReason"] == why
    baseline = of_type(events, "evaluation_complete")
    assert baseline, "evaluation_start(baseline) is never closed by an evaluation_complete"
    assert baseline[0]["data"]["aborted"] == why
    assert baseline[0]["data"]["score"] is None
    check_grammar(events)


@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("calls", [20, 45, 100])
async def test_max_llm_calls_is_never_exceeded(
    api: Api, services: Services, sim: YieldingSim, calls: int, concurrency: int
) -> None:
    """20: the baseline uses them all (a stop between steps); 45 and 100: mid-iteration."""
    job_id, events, results = await _run(
        api, services, budget={"maxLlmCalls": calls}, concurrency=concurrency
    )
    check_grammar(events)
    assert results["stopReason"] == "budget"
    assert results["usage"]["llmCalls"] == len(sim.calls) == calls
    assert (await get_job(api, job_id))["usage"] == results["usage"]


@pytest.mark.parametrize(
    ("budget", "concurrency"),
    [
        ({"maxTokens": 100}, 1),  # inside the baseline's 20 calls
        ({"maxTokens": 3000}, 4),
        ({"maxCostUsd": 0.00003}, 2),  # inside the baseline
        ({"maxCostUsd": 0.0005}, 1),
    ],
)
async def test_token_and_cost_caps_are_exceeded_by_at_most_the_calls_in_flight(
    api: Api, services: Services, sim: YieldingSim, budget: dict[str, Any], concurrency: int
) -> None:
    _, events, results = await _run(api, services, budget=budget, concurrency=concurrency)
    assert events[-1]["eventType"] == "job_complete"
    usage = results["usage"]
    assert results["stopReason"] == "budget"
    assert sim.peak <= concurrency
    spent: float
    cap: float
    biggest: float
    if "maxTokens" in budget:
        spent, cap = usage["inputTokens"] + usage["outputTokens"], budget["maxTokens"]
        biggest = max(c.input_tokens + c.output_tokens for c in sim.calls)
    else:
        spent, cap = usage["costUsd"], budget["maxCostUsd"]
        biggest = max((c.input_tokens * 0.15 + c.output_tokens * 0.60) / 1e6 for c in sim.calls)
    assert spent >= cap
    assert spent - cap <= concurrency * biggest + 1e-12, (
        f"{spent} spent against a cap of {cap}: over by more than {concurrency} call(s)"
    )


async def test_a_budget_reached_between_steps_closes_the_pending_evaluation(
    api: Api, services: Services
) -> None:
    """The cap is exactly what the baseline and the first kept proposal cost: the budget
    stops the job before that candidate's minibatch, whose evaluation_start was written."""
    task = await sample_task(api, "capitals")
    probe = await task.start(api, maxIterations=1)
    await run_jobs(services)
    calls = 0
    for e in await all_events(api, probe["id"]):
        if e["eventType"] in ("evaluation_complete", "mutation_generated"):
            calls += e["data"]["usage"]["llmCalls"]
        if e["eventType"] == "mutation_generated" and e["data"]["status"] == "kept":
            break
    job = await task.start(api, budget={"maxLlmCalls": calls})
    await run_jobs(services)
    events = await all_events(api, job["id"])
    assert (await get_results(api, job["id"]))["stopReason"] == "budget"
    assert events[-3]["eventType"] == "evaluation_complete", "the minibatch is left open"
    assert events[-4]["eventType"] == "evaluation_start"
    assert events[-3]["data"]["aborted"] == "budget"
    assert events[-3]["data"]["score"] is None
    check_grammar(events)


@pytest.mark.parametrize("calls", [45])
async def test_an_evaluation_cut_by_the_budget_reports_what_it_spent(
    api: Api, services: Services, calls: int
) -> None:
    """45 calls end inside a full evaluation, 100 inside a proposal: the calls the cut step
    made are paid, and its events say so: the events' usage adds up to the job's."""
    _, events, results = await _run(api, services, budget={"maxLlmCalls": calls})
    assert results["usage"]["llmCalls"] == calls
    paid = sum(
        e["data"]["usage"]["llmCalls"]
        for e in events
        if e["eventType"] in ("evaluation_complete", "mutation_generated")
    )
    assert paid == results["usage"]["llmCalls"]


async def test_cancel_mid_run(api: Api, services: Services, control: Control) -> None:
    task = await sample_task(api, "capitals")
    job = await task.start(api)
    control.arm(services.store, job["id"], after_phase("minibatch", 3), JobAction.CANCEL)
    await run_jobs(services)
    events = await all_events(api, job["id"])
    run = check_grammar(events)
    assert run.terminal == "job_cancelled"
    assert events[-1]["data"]["reason"] == "by test"
    results = await get_results(api, job["id"])
    assert results["status"] == "cancelled"
    assert results["stopReason"] == "cancelled"
    bests = of_type(events, "new_best")
    expected = bests[-1]["data"]["prompt"] if bests else {"template": task.prompt["template"]}
    assert results["bestPrompt"] == expected
    finished = await get_job(api, job["id"])
    assert finished["status"] == "cancelled"
    assert finished["lastEventId"] == len(events)

    await run_jobs(services)  # nothing is left to run: no event follows job_cancelled
    assert await all_events(api, job["id"]) == events


async def test_a_stop_between_iterations_reports_the_last_closed_iteration(
    api: Api, services: Services, control: Control, clock: ManualClock
) -> None:
    """The timeout strikes right after iteration 1 closed: no iteration 2 ever starts, so
    the job, its results and job_complete all say iteration 1."""
    task = await sample_task(api, "capitals")
    job = await task.start(api, timeout=1000)
    advance = lambda: clock.advance(2)  # noqa: E731
    control.arm(services.store, job["id"], after_phase("iteration_end"), None, advance)
    await run_jobs(services)
    events = await all_events(api, job["id"])
    run = check_grammar(events)
    results, finished = await get_results(api, job["id"]), await get_job(api, job["id"])
    assert results["stopReason"] == "timeout"
    assert run.iterations == results["iterations"] == 1
    assert events[-1]["iteration"] == 1, "job_complete names an iteration that never started"
    assert finished["currentIteration"] == 1
