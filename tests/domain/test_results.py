"""The Results object: improvement maths, the wire shape, and the run summary round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tests.support.contract import RESULTS_FIELDS
from whetstone.domain.job import Job
from whetstone.domain.prompt import Message, PromptBody
from whetstone.domain.results import HistoryEntry, RunSummary, build_results
from whetstone.domain.status import JobStatus
from whetstone.domain.usage import Usage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
USAGE = Usage(llm_calls=12, input_tokens=3400, output_tokens=560, cost_usd=0.0123)


def make_job(
    initial: float | None, best: float | None, config: dict[str, Any] | None = None
) -> Job:
    return Job(
        id="job_1",
        workspace_id="ws_1",
        status=JobStatus.COMPLETED,
        prompt_id="prm_1",
        dataset_id="dst_1",
        config=config if config is not None else {"dryRun": True},
        current_iteration=3,
        initial_score=initial,
        current_score=best,
        best_score=best,
        result_prompt_id=None,
        last_event_id=20,
        usage=USAGE,
        error=None,
        stop_reason="max_iterations",
        pending_action=None,
        pending_reason=None,
        created_at=T0,
        started_at=T0,
        finished_at=T0,
    )


SUMMARY = RunSummary(
    best_prompt=PromptBody(template="Answer {question} in one word."),
    iterations=3,
    history=(
        HistoryEntry(0, 0.5, [0.5]),
        HistoryEntry(1, 0.6, [0.6, 0.4]),
        HistoryEntry(2, 0.6, []),
        HistoryEntry(3, 0.75, [0.75, 0.1]),
    ),
)


def results_for(initial: float | None, best: float | None, **kw: Any) -> dict[str, Any]:
    return build_results(
        make_job(initial, best, kw.pop("config", None)),
        SUMMARY,
        status=kw.pop("status", JobStatus.COMPLETED),
        stop_reason=kw.pop("stop_reason", "max_iterations"),
        result_prompt_id=kw.pop("result_prompt_id", "prm_2"),
    )


@pytest.mark.parametrize(
    ("initial", "final", "improvement", "relative"),
    [
        (0.5, 0.75, 0.25, 0.5),
        (0.2, 0.8, 0.6, 3.0),
        (0.4, 0.4, 0.0, 0.0),
        (0.8, 0.6, -0.2, -0.25),
        (0.25, 1.0, 0.75, 3.0),
    ],
)
def test_improvement_and_relative_improvement(
    initial: float, final: float, improvement: float, relative: float
) -> None:
    results = results_for(initial, final)
    assert results["initialScore"] == initial
    assert results["finalScore"] == final
    assert results["improvement"] == pytest.approx(improvement)
    assert results["relativeImprovement"] == pytest.approx(relative)


def test_zero_initial_score_has_improvement_but_no_relative_improvement() -> None:
    results = results_for(0.0, 0.6)
    assert results["improvement"] == pytest.approx(0.6)
    assert results["relativeImprovement"] is None


def test_zero_to_zero() -> None:
    results = results_for(0.0, 0.0)
    assert results["improvement"] == 0.0
    assert results["relativeImprovement"] is None


@pytest.mark.parametrize(("initial", "final"), [(None, 0.5), (0.5, None), (None, None)])
def test_missing_scores_give_no_improvement(initial: float | None, final: float | None) -> None:
    results = results_for(initial, final)
    assert results["initialScore"] == initial
    assert results["finalScore"] == final
    assert results["improvement"] is None
    assert results["relativeImprovement"] is None


def test_results_have_the_protocol_fields_and_values() -> None:
    results = results_for(0.5, 0.75, status=JobStatus.CANCELLED, stop_reason="cancelled")
    assert set(results) >= RESULTS_FIELDS
    assert results["jobId"] == "job_1"
    assert results["status"] == "cancelled"
    assert results["stopReason"] == "cancelled"
    assert results["resultPromptId"] == "prm_2"
    assert results["bestPrompt"] == {"template": "Answer {question} in one word."}
    assert results["iterations"] == 3
    assert results["history"] == [
        {"iteration": 0, "bestScore": 0.5, "scores": [0.5]},
        {"iteration": 1, "bestScore": 0.6, "scores": [0.6, 0.4]},
        {"iteration": 2, "bestScore": 0.6, "scores": []},
        {"iteration": 3, "bestScore": 0.75, "scores": [0.75, 0.1]},
    ]
    assert results["usage"] == {
        "llmCalls": 12,
        "inputTokens": 3400,
        "outputTokens": 560,
        "costUsd": 0.0123,
        "cachedCalls": 0,
        "cachedCostUsd": 0.0,
    }
    assert orjson.loads(orjson.dumps(results)) == results


def test_results_without_a_result_prompt_or_stop_reason() -> None:
    results = results_for(None, None, result_prompt_id=None, stop_reason=None)
    assert results["resultPromptId"] is None
    assert results["stopReason"] is None


@pytest.mark.parametrize(
    ("config", "simulated"),
    [
        ({"dryRun": True}, True),
        ({"dryRun": False, "model": "openai/gpt-4o-mini"}, False),
        ({}, False),
    ],
)
def test_dry_run_results_are_labelled_simulated(config: dict[str, Any], simulated: bool) -> None:
    assert results_for(0.5, 0.6, config=config)["simulated"] is simulated


def test_results_of_a_run_on_the_simulator_model_are_labelled_simulated() -> None:
    # DESIGN.md: "dryRun: true (or the model sim/default)" runs on the simulator, which
    # "is labelled as such everywhere it appears (results, UI, CLI)".
    config = {
        "dryRun": False,
        "model": "sim/default",
        "taskModel": "sim/default",
        "mutationModel": "sim/default",
        "judgeModel": "sim/default",
    }
    assert results_for(0.5, 0.6, config=config)["simulated"] is True


@pytest.mark.parametrize(
    "summary",
    [
        SUMMARY,
        RunSummary(best_prompt=PromptBody(template="plain")),
        RunSummary(
            best_prompt=PromptBody(
                messages=(Message("system", "Be terse."), Message("user", "{question}"))
            ),
            iterations=1,
            history=(HistoryEntry(0, None), HistoryEntry(1, 0.3, [0.3])),
        ),
    ],
)
def test_run_summary_wire_round_trip(summary: RunSummary) -> None:
    wire = summary.to_wire()
    assert RunSummary.from_wire(wire) == summary
    assert RunSummary.from_wire(orjson.loads(orjson.dumps(wire))) == summary


def test_run_summary_wire_shape() -> None:
    summary = replace(SUMMARY, history=SUMMARY.history[:1])
    assert summary.to_wire() == {
        "bestPrompt": {"template": "Answer {question} in one word."},
        "iterations": 3,
        "history": [{"iteration": 0, "bestScore": 0.5, "scores": [0.5]}],
    }


def test_run_summary_from_minimal_wire() -> None:
    summary = RunSummary.from_wire({"bestPrompt": {"messages": [{"role": "user", "content": "x"}]}})
    assert summary == RunSummary(best_prompt=PromptBody(messages=(Message("user", "x"),)))
