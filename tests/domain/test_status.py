"""Job states: the transition table checked against DESIGN.md, actions, terminal states."""

from __future__ import annotations

import itertools

import pytest

from whetstone.domain.status import (
    ACTION_REQUIRES,
    TERMINAL,
    TRANSITIONS,
    JobAction,
    JobStatus,
    StopReason,
)

# DESIGN.md: "queued → running → completed | failed | cancelled, running ⇄ paused,
# queued|paused → cancelled", written out by hand as (from, to) wire values.
LEGAL: set[tuple[str, str]] = {
    ("queued", "running"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "paused"),
    ("paused", "running"),
    ("queued", "cancelled"),
    ("paused", "cancelled"),
}
STATES = ["queued", "running", "paused", "completed", "failed", "cancelled"]
ALL_PAIRS = list(itertools.product(STATES, STATES))


def test_status_values_are_the_protocols() -> None:
    assert [s.value for s in JobStatus] == STATES


def test_status_is_a_string() -> None:
    assert JobStatus("paused") == "paused"
    assert f"{JobStatus.RUNNING}" == "running"


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_every_transition_pair(source: str, target: str) -> None:
    expected = (source, target) in LEGAL
    assert JobStatus(source).can_become(JobStatus(target)) is expected
    assert (JobStatus(target) in TRANSITIONS[JobStatus(source)]) is expected


def test_table_has_a_row_for_every_status() -> None:
    assert set(TRANSITIONS) == set(JobStatus)


@pytest.mark.parametrize("state", STATES)
def test_no_status_transitions_to_itself(state: str) -> None:
    assert not JobStatus(state).can_become(JobStatus(state))


@pytest.mark.parametrize(
    ("state", "terminal"),
    [
        ("queued", False),
        ("running", False),
        ("paused", False),
        ("completed", True),
        ("failed", True),
        ("cancelled", True),
    ],
)
def test_is_terminal(state: str, terminal: bool) -> None:
    assert JobStatus(state).is_terminal is terminal
    assert (JobStatus(state) in TERMINAL) is terminal


@pytest.mark.parametrize("state", ["completed", "failed", "cancelled"])
def test_terminal_states_have_no_way_out(state: str) -> None:
    assert TRANSITIONS[JobStatus(state)] == frozenset()


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        # PROTOCOL.md: pause "409 unless running", resume "409 unless paused",
        # cancel "409 if already terminal".
        ("pause", {"running"}),
        ("resume", {"paused"}),
        ("cancel", {"queued", "running", "paused"}),
    ],
)
def test_action_requires(action: str, allowed: set[str]) -> None:
    assert {s.value for s in ACTION_REQUIRES[JobAction(action)]} == allowed


def test_every_action_has_a_requirement() -> None:
    assert set(ACTION_REQUIRES) == set(JobAction)
    assert [a.value for a in JobAction] == ["pause", "resume", "cancel"]


@pytest.mark.parametrize(
    ("action", "target"),
    [("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")],
)
def test_each_allowed_action_is_a_legal_transition(action: str, target: str) -> None:
    for source in ACTION_REQUIRES[JobAction(action)]:
        assert (source.value, target) in LEGAL


def test_cancel_is_allowed_exactly_when_not_terminal() -> None:
    cancellable = ACTION_REQUIRES[JobAction.CANCEL]
    assert {s for s in JobStatus if not s.is_terminal} == cancellable


def test_stop_reasons_are_the_protocols() -> None:
    assert [r.value for r in StopReason] == [
        "max_iterations",
        "target_score",
        "patience",
        "timeout",
        "budget",
        "cancelled",
        "error",
    ]
