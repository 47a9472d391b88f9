"""The twelve event types of a job, as typed payloads, and the stored event envelope.

Wire names (``mutation_generated`` …) live only in :mod:`whetstone.domain.codec`.
Each payload carries exactly the fields of PROTOCOL.md's event table (plus a
few optional extras documented in docs/events.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from whetstone.domain.usage import Usage


class Stage(StrEnum):
    BASELINE = "baseline"
    MUTATION = "mutation"
    EVALUATION = "evaluation"
    SELECTION = "selection"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class JobStarted:
    job_id: str
    timestamp: datetime
    prompt_id: str
    dataset_id: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IterationStart:
    iteration: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class MutationGenerated:
    candidate_id: str
    parent_ids: list[str]
    mutation_type: str
    preview: str
    prompt: Any
    status: str = "kept"  # or "discarded" (then no evaluation follows)
    repairs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    usage: Usage | None = None  # what the proposal cost (reflection included)


@dataclass(frozen=True, slots=True)
class EvaluationStart:
    iteration: int
    candidate_id: str
    item_count: int
    phase: str | None = None  # baseline | minibatch | full


@dataclass(frozen=True, slots=True)
class EvaluationComplete:
    iteration: int
    candidate_id: str
    score: float | None
    metrics: dict[str, float]
    usage: Usage
    phase: str | None = None
    item_count: int | None = None
    promoted: bool | None = None  # minibatch: passed the gate to a full evaluation
    parent_score: float | None = None  # minibatch: the parent's score on the same items
    aborted: str | None = None  # why it stopped before scoring (budget, timeout)


@dataclass(frozen=True, slots=True)
class NewBest:
    candidate_id: str
    score: float
    previous_score: float | None
    improvement: float | None
    prompt: Any


@dataclass(frozen=True, slots=True)
class IterationComplete:
    iteration: int
    best_score: float | None
    usage: Usage
    scores: list[float] = field(default_factory=list)
    best_candidate_id: str | None = None


@dataclass(frozen=True, slots=True)
class JobPaused:
    iteration: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class JobResumed:
    iteration: int


@dataclass(frozen=True, slots=True)
class JobComplete:
    results: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobFailed:
    error: dict[str, Any]
    will_retry: bool = False


@dataclass(frozen=True, slots=True)
class JobCancelled:
    reason: str | None


EventPayload = (
    JobStarted
    | IterationStart
    | MutationGenerated
    | EvaluationStart
    | EvaluationComplete
    | NewBest
    | IterationComplete
    | JobPaused
    | JobResumed
    | JobComplete
    | JobFailed
    | JobCancelled
)

TERMINAL_PAYLOADS = (JobComplete, JobFailed, JobCancelled)

_DEFAULT_STAGE: dict[type[Any], Stage] = {
    JobStarted: Stage.BASELINE,
    IterationStart: Stage.MUTATION,
    MutationGenerated: Stage.MUTATION,
    EvaluationStart: Stage.EVALUATION,
    EvaluationComplete: Stage.EVALUATION,
    NewBest: Stage.SELECTION,
    IterationComplete: Stage.SELECTION,
    JobPaused: Stage.SELECTION,
    JobResumed: Stage.SELECTION,
    JobComplete: Stage.FINISHED,
    JobFailed: Stage.FINISHED,
    JobCancelled: Stage.FINISHED,
}


def stage_for(payload: EventPayload, iteration: int) -> Stage:
    """The stage an event belongs to: iteration 0 is the baseline until the job ends."""
    stage = _DEFAULT_STAGE[type(payload)]
    if iteration == 0 and stage is not Stage.FINISHED:
        return Stage.BASELINE
    return stage


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event an emitter produced; the store gives it its id when it is written."""

    payload: EventPayload
    iteration: int
    timestamp: datetime
    stage: Stage = field(default=Stage.BASELINE)

    @classmethod
    def of(cls, payload: EventPayload, *, iteration: int, timestamp: datetime) -> PendingEvent:
        return cls(payload, iteration, timestamp, stage_for(payload, iteration))


@dataclass(frozen=True, slots=True)
class Event:
    """A stored event: ``id`` is per job, starts at 1 and has no gaps."""

    id: int
    job_id: str
    iteration: int
    stage: Stage
    timestamp: datetime
    payload: EventPayload
