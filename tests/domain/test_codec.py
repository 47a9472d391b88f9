"""The event codec: wire names, camelCase fields, timestamps, stages, round trips."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from tests.support.contract import STAGES
from whetstone.domain import events as ev
from whetstone.domain.codec import (
    EVENT_TYPES,
    EncodedEvent,
    encode_event,
    event_from_wire,
    event_to_wire,
    event_type,
    format_timestamp,
    parse_timestamp,
)
from whetstone.domain.usage import Usage

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
USAGE = Usage(llm_calls=3, input_tokens=120, output_tokens=45, cost_usd=0.0042)
PROMPT = {"template": "Answer {question} briefly."}

# wire name -> (a payload of that type, the data fields PROTOCOL.md says it always has)
CASES: dict[str, tuple[ev.EventPayload, set[str]]] = {
    "job_started": (
        ev.JobStarted("job_1", T0, "prm_1", "dst_1", {"maxIterations": 3, "seed": 7}),
        {"jobId", "timestamp", "promptId", "datasetId", "config"},
    ),
    "iteration_start": (ev.IterationStart(2, T0), {"iteration", "timestamp"}),
    "mutation_generated": (
        ev.MutationGenerated("cand_2", ["baseline", "cand_1"], "crossover", "Answer", PROMPT),
        {"candidateId", "parentIds", "mutationType", "preview", "prompt"},
    ),
    "evaluation_start": (
        ev.EvaluationStart(2, "cand_2", 10),
        {"iteration", "candidateId", "itemCount"},
    ),
    "evaluation_complete": (
        ev.EvaluationComplete(2, "cand_2", 0.75, {"exact_match": 0.7, "contains": 0.8}, USAGE),
        {"iteration", "candidateId", "score", "metrics", "usage"},
    ),
    "new_best": (
        ev.NewBest("cand_2", 0.75, 0.5, 0.25, PROMPT),
        {"candidateId", "score", "previousScore", "improvement", "prompt"},
    ),
    "iteration_complete": (
        ev.IterationComplete(2, 0.75, USAGE),
        {"iteration", "bestScore", "usage"},
    ),
    "job_paused": (ev.JobPaused(2, "user asked"), {"iteration", "reason"}),
    "job_resumed": (ev.JobResumed(2), {"iteration"}),
    "job_complete": (
        ev.JobComplete({"jobId": "job_1", "finalScore": 0.75, "stopReason": "max_iterations"}),
        {"results"},
    ),
    "job_failed": (
        ev.JobFailed({"code": "internal", "message": "boom"}, will_retry=True),
        {"error", "willRetry"},
    ),
    "job_cancelled": (ev.JobCancelled("no longer needed"), {"reason"}),
}

# docs/events.md: the stage of each type outside iteration 0
FINISHED = {"job_complete", "job_failed", "job_cancelled"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def make_event(name: str, *, iteration: int = 2, event_id: int = 7) -> ev.Event:
    payload = CASES[name][0]
    return ev.Event(event_id, "job_1", iteration, ev.stage_for(payload, iteration), T0, payload)


def test_there_are_twelve_event_types_with_unique_names() -> None:
    assert set(EVENT_TYPES.values()) == set(CASES)
    assert len(EVENT_TYPES) == 12


@pytest.mark.parametrize("name", sorted(CASES))
def test_wire_name(name: str) -> None:
    assert event_type(CASES[name][0]) == name
    assert event_to_wire(make_event(name))["eventType"] == name


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(name: str) -> None:
    event = make_event(name)
    assert event_from_wire(event_to_wire(event)) == event
    assert event_from_wire(orjson.loads(encode_event(event))) == event


@pytest.mark.parametrize("name", sorted(CASES))
def test_envelope_fields(name: str) -> None:
    wire = event_to_wire(make_event(name, iteration=3, event_id=42))
    assert set(wire) == {"id", "jobId", "eventType", "iteration", "stage", "timestamp", "data"}
    assert wire["id"] == 42
    assert wire["jobId"] == "job_1"
    assert wire["iteration"] == 3
    assert wire["stage"] == STAGES[name]
    assert wire["timestamp"] == "2026-03-04T05:06:07.123456Z"


@pytest.mark.parametrize("name", sorted(CASES))
def test_data_has_the_protocol_fields_in_camel_case(name: str) -> None:
    data = event_to_wire(make_event(name))["data"]
    assert CASES[name][1] <= set(data)
    assert all("_" not in key for key in data)


def test_data_values_on_the_wire() -> None:
    started = event_to_wire(make_event("job_started"))["data"]
    assert started["timestamp"] == "2026-03-04T05:06:07.123456Z"
    assert started["config"] == {"maxIterations": 3, "seed": 7}
    complete = event_to_wire(make_event("evaluation_complete"))["data"]
    assert complete["usage"] == {
        "llmCalls": 3,
        "inputTokens": 120,
        "outputTokens": 45,
        "costUsd": 0.0042,
        "cachedCalls": 0,
        "cachedCostUsd": 0.0,
    }
    assert complete["metrics"] == {"exact_match": 0.7, "contains": 0.8}
    assert event_to_wire(make_event("mutation_generated"))["data"]["parentIds"] == [
        "baseline",
        "cand_1",
    ]
    assert event_to_wire(make_event("job_failed"))["data"]["willRetry"] is True


def test_job_failed_will_retry_defaults_to_false_on_the_wire() -> None:
    data = event_to_wire(ev.Event(1, "j", 0, ev.Stage.FINISHED, T0, ev.JobFailed({"code": "x"})))
    assert data["data"]["willRetry"] is False


@pytest.mark.parametrize("name", sorted(CASES))
def test_stage_for_iteration_zero_is_baseline_except_finished(name: str) -> None:
    expected = "finished" if name in FINISHED else "baseline"
    assert ev.stage_for(CASES[name][0], 0) == expected


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("iteration", [1, 5])
def test_stage_for_later_iterations(name: str, iteration: int) -> None:
    assert ev.stage_for(CASES[name][0], iteration) == STAGES[name]


def test_pending_event_gets_its_stage() -> None:
    payload = CASES["evaluation_start"][0]
    assert ev.PendingEvent.of(payload, iteration=0, timestamp=T0).stage is ev.Stage.BASELINE
    assert ev.PendingEvent.of(payload, iteration=1, timestamp=T0).stage is ev.Stage.EVALUATION


def test_stages_are_the_protocols() -> None:
    assert [s.value for s in ev.Stage] == [
        "baseline",
        "mutation",
        "evaluation",
        "selection",
        "finished",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00.000000Z"),
        (datetime(2026, 1, 1, 12, 30, 5, 7, tzinfo=UTC), "2026-01-01T12:30:05.000007Z"),
        (
            datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            "2025-12-31T23:00:00.000000Z",
        ),
        (
            datetime(2026, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            "2026-06-01T13:30:00.000000Z",
        ),
    ],
)
def test_format_timestamp_is_iso_utc_with_z(value: datetime, expected: str) -> None:
    text = format_timestamp(value)
    assert text == expected
    assert ISO_UTC.match(text)
    assert parse_timestamp(text) == value
    assert parse_timestamp(text).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "2026-01-01T02:00:00+02:00"]
)
def test_parse_timestamp_accepts_iso_forms(text: str) -> None:
    assert parse_timestamp(text) == datetime(2026, 1, 1, tzinfo=UTC)


def test_timestamp_in_a_non_utc_zone_is_sent_in_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=9)))
    event = ev.Event(1, "job_1", 1, ev.Stage.SELECTION, local, ev.JobResumed(1))
    wire = event_to_wire(event)
    assert wire["timestamp"] == "2026-03-04T05:06:07.123456Z"
    assert event_from_wire(wire).timestamp == T0


@pytest.mark.parametrize("name", ["job_exploded", "JobStarted", "", "JOB_STARTED"])
def test_unknown_event_type_rejected(name: str) -> None:
    wire: dict[str, Any] = event_to_wire(make_event("job_resumed"))
    wire["eventType"] = name
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_wire(wire)


def test_unknown_stage_rejected() -> None:
    wire: dict[str, Any] = event_to_wire(make_event("job_resumed"))
    wire["stage"] = "warming_up"
    with pytest.raises(ValueError, match="warming_up"):
        event_from_wire(wire)


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoded_event_body_equals_encode_event(name: str) -> None:
    event = make_event(name)
    encoded = EncodedEvent(event)
    assert encoded.body == encode_event(event)
    assert orjson.loads(encoded.body) == event_to_wire(event)
    assert encoded.id == 7
    assert encoded.job_id == "job_1"
    assert encoded.event is event


def test_encoded_event_keeps_a_given_body() -> None:
    event = make_event("job_resumed")
    body = encode_event(event)
    assert EncodedEvent(event, body).body is body
