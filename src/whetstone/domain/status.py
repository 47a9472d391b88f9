"""Job states and the one table of legal transitions."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    def can_become(self, target: JobStatus) -> bool:
        return target in TRANSITIONS[self]


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.PAUSED, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.PAUSED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class JobAction(StrEnum):
    """What a user may ask of a job, and the status each needs."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


ACTION_REQUIRES: dict[JobAction, frozenset[JobStatus]] = {
    JobAction.PAUSE: frozenset({JobStatus.RUNNING}),
    JobAction.RESUME: frozenset({JobStatus.PAUSED}),
    JobAction.CANCEL: frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.PAUSED}),
}


class StopReason(StrEnum):
    MAX_ITERATIONS = "max_iterations"
    TARGET_SCORE = "target_score"
    PATIENCE = "patience"
    TIMEOUT = "timeout"
    BUDGET = "budget"
    CANCELLED = "cancelled"
    ERROR = "error"
