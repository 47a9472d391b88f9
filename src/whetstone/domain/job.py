"""Jobs, workspaces and API keys as the store hands them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from whetstone.domain.status import JobAction, JobStatus
from whetstone.domain.usage import Usage


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    workspace_id: str
    status: JobStatus
    prompt_id: str
    dataset_id: str
    config: dict[str, Any]
    current_iteration: int
    initial_score: float | None
    current_score: float | None
    best_score: float | None
    result_prompt_id: str | None
    last_event_id: int
    usage: Usage
    error: dict[str, Any] | None
    stop_reason: str | None
    pending_action: JobAction | None
    pending_reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    running_ms: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """Counters a step moves forward, written with the step's events."""

    current_iteration: int
    initial_score: float | None
    current_score: float | None
    best_score: float | None
    usage: Usage


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    workspace_id: str
    prefix: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None = None
