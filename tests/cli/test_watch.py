"""The watch view's state, folded from events, and how it is drawn: the Rich panel and one
line per event."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from whetstone.cli.watch import WatchState, event_line, render, sparkline
from whetstone.sdk.events import Event, parse_event

JOB = "job_test"
USAGE = {"llmCalls": 12, "inputTokens": 900, "outputTokens": 100, "costUsd": 0.0123}
RESULTS = {
    "jobId": JOB,
    "status": "completed",
    "initialScore": 0.25,
    "finalScore": 0.75,
    "improvement": 0.5,
    "bestPrompt": {"template": "Be precise. {q}"},
    "iterations": 2,
    "stopReason": "max_iterations",
    "usage": USAGE,
}
RUN: list[tuple[str, int, str, dict[str, Any]]] = [
    ("job_started", 0, "baseline", {"promptId": "prm_1", "datasetId": "ds_1",
                                    "config": {"maxIterations": 2, "dryRun": True}}),
    ("evaluation_start", 0, "baseline", {"candidateId": "baseline", "itemCount": 4}),
    ("evaluation_complete", 0, "baseline", {"candidateId": "baseline", "score": 0.25}),
    ("iteration_complete", 0, "selection", {"bestScore": 0.25, "usage": USAGE}),
    ("iteration_start", 1, "mutation", {}),
    ("mutation_generated", 1, "mutation", {"candidateId": "c1", "mutationType": "reflective",
                                           "preview": "Be precise.\n{q}", "parentIds": []}),
    ("evaluation_complete", 1, "evaluation", {"candidateId": "c1", "score": 0.75}),
    ("new_best", 1, "selection", {"candidateId": "c1", "score": 0.75, "previousScore": 0.25}),
    ("job_paused", 1, "selection", {"reason": "lunch"}),
    ("job_resumed", 1, "selection", {}),
    ("iteration_complete", 1, "selection", {"bestScore": 0.75, "usage": USAGE}),
    ("job_complete", 2, "finished", {"results": RESULTS}),
]  # fmt: skip


def events() -> list[Event]:
    return [
        parse_event({"id": n, "jobId": JOB, "eventType": kind, "iteration": it, "stage": stage,
                     "timestamp": "2026-01-01T00:00:00Z", "data": data})
        for n, (kind, it, stage, data) in enumerate(RUN, start=1)
    ]  # fmt: skip


def draw(state: WatchState) -> str:
    console = Console(width=100, record=True, force_terminal=False)
    console.print(render(state))
    return console.export_text()


def test_sparkline_scales_scores_from_zero_to_one() -> None:
    assert sparkline([0.0, 0.5, 1.0, 1.7, -1]) == "▁▅██▁"
    assert sparkline([0.5] * 100, width=10) == "▅" * 10


def test_state_follows_the_run() -> None:
    state = WatchState(job_id=JOB)
    seen = []
    for event in events():
        state.apply(event)
        seen.append((state.status, state.iterations_done, state.best_score))
    assert seen[0] == ("running", 0, None)
    assert seen[2] == ("running", 0, 0.25)
    assert seen[7] == ("running", 0, 0.75)
    assert seen[8][0] == "paused"
    assert seen[9][0] == "running"
    assert seen[-1] == ("completed", 2, 0.75)
    assert state.simulated is True
    assert state.max_iterations == 2
    assert state.initial_score == 0.25
    assert state.scores == [0.25, 0.75]
    assert state.mutation == ("reflective", "Be precise.\n{q}")
    assert state.usage.llm_calls == 12
    assert state.results is not None


def test_the_panel_shows_progress_scores_mutation_cost_and_connection() -> None:
    state = WatchState(job_id=JOB)
    for event in events()[:8]:
        state.apply(event)
    state.connection_changed("connected")
    text = draw(state)
    assert f"Optimization {JOB}" in text
    assert "SIMULATED" in text
    assert "iteration 0/2" in text
    assert "0.750  (initial 0.250, +0.500)" in text
    assert "▃▆" in text  # 0.25 and 0.75
    assert "reflective: Be precise. {q}" in text  # one line, braces as written
    assert "12 LLM calls · 1,000 tokens · $0.0123 (simulated)" in text
    assert "connected" in text
    state.connection_changed("reconnecting")
    assert "reconnecting" in draw(state)
    state.connection_changed("connected")
    assert "connected (reconnected 1 times)" in draw(state)


def test_one_line_per_event() -> None:
    lines = [event_line(e) for e in events()]
    assert lines[0] == "[1] iteration 0 job_started: prompt prm_1, dataset ds_1 (SIMULATED)"
    assert lines[2] == "[3] iteration 0 evaluation_complete: baseline score 0.250"
    assert lines[5] == "[6] iteration 1 mutation_generated: c1 (reflective) Be precise. {q}"
    assert lines[7] == "[8] iteration 1 new_best: c1 score 0.750 (was 0.250)"
    assert lines[8] == "[9] iteration 1 job_paused: lunch"
    assert lines[9] == "[10] iteration 1 job_resumed"
    assert lines[-1] == "[12] iteration 2 job_complete: 0.250 -> 0.750, stopped by max_iterations"
    assert all("\n" not in line for line in lines)
