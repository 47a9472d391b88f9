"""EngineState and Candidate as plain JSON; rng_for's seeded streams."""

from __future__ import annotations

import json
from typing import Any

from whetstone.domain.prompt import Message, PromptBody
from whetstone.domain.usage import Usage
from whetstone.engine.state import Candidate, EngineState, Pending, rng_for


def full_state() -> EngineState:
    base = Candidate(
        id="c0",
        body={"template": "Answer {question}"},
        parents=[],
        mutation_type=None,
        iteration=0,
        item_scores={"0": [1.0, 1.0], "1": [0.0, 0.0]},
        full_score=0.5,
    )
    child = Candidate(
        id="c1",
        body={
            "messages": [
                {"role": "system", "content": "Be brief. Use {{braces}}."},
                {"role": "user", "content": "{question}"},
            ]
        },
        parents=["c0"],
        mutation_type="reflective",
        iteration=1,
        item_scores={"0": [1.0, 1.0]},
    )
    return EngineState(
        phase="minibatch",
        iteration=1,
        slot=2,
        iteration_open=True,
        candidates={"c0": base, "c1": child},
        pool=["c0"],
        best_id="c0",
        initial_score=0.5,
        current_score=0.5,
        usage=Usage(12, 3400, 560, 0.0123).to_wire(),
        no_gain=1,
        improved_this_iteration=False,
        iteration_scores=[0.5],
        history=[{"iteration": 0, "score": 0.5, "note": "ünïcode ✓"}],
        pending=Pending(id="c1", parent="c0", minibatch=[3, 1, 4]),
    )


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


def test_state_survives_a_json_round_trip() -> None:
    state = full_state()
    restored = EngineState.from_json(through_json(state.to_json()))
    assert restored == state
    assert isinstance(restored.candidates["c1"], Candidate)
    assert isinstance(restored.pending, Pending)
    assert restored.best is restored.candidates["c0"]


def test_round_trip_is_stable() -> None:
    once = through_json(full_state().to_json())
    twice = through_json(EngineState.from_json(once).to_json())
    assert twice == once


def test_initial_state_round_trips_without_pending() -> None:
    state = EngineState()
    restored = EngineState.from_json(through_json(state.to_json()))
    assert restored == state
    assert restored.pending is None
    assert restored.best is None


def test_candidate_body_reads_back_as_a_prompt() -> None:
    restored = EngineState.from_json(through_json(full_state().to_json()))
    assert restored.candidates["c0"].prompt == PromptBody(template="Answer {question}")
    assert restored.candidates["c1"].prompt == PromptBody(
        messages=(
            Message("system", "Be brief. Use {{braces}}."),
            Message("user", "{question}"),
        )
    )


def test_candidate_scores_on_positions() -> None:
    c = full_state().candidates["c0"]
    assert c.score_on([0, 1]) == 0.5
    assert c.score_on([0]) == 1.0
    assert c.has([0, 1])
    assert not c.has([0, 2])


def draws(seed: int, *parts: Any) -> list[float]:
    rng = rng_for(seed, *parts)
    return [rng.random() for _ in range(5)]


def test_rng_for_is_deterministic() -> None:
    assert draws(7, "propose", 3, 1) == draws(7, "propose", 3, 1)


def test_rng_for_differs_per_seed_and_per_part() -> None:
    streams = [
        draws(7, "propose", 3, 1),
        draws(8, "propose", 3, 1),
        draws(7, "minibatch", 3, 1),
        draws(7, "propose", 4, 1),
        draws(7, "propose", 3, 2),
        draws(7, "propose", 31),
        draws(7, "propose", "3", 1),
        draws(7, "propose"),
        draws(7),
    ]
    assert len({tuple(s) for s in streams}) == len(streams)


def test_rng_for_does_not_share_state_between_calls() -> None:
    first = rng_for(1, "x")
    first.random()  # advancing one stream leaves a fresh one unaffected
    assert rng_for(1, "x").random() == draws(1, "x")[0]
