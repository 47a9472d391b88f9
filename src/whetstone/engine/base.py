"""What the runner asks of an optimization engine.

An engine decides; it never opens a socket or a database. It gets everything
through :class:`JobContext` and advances one *step* at a time: each step returns
the events it produced and the complete state to checkpoint, which the runner
writes in one transaction. Resuming feeds the last checkpointed state back in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from whetstone.clock import Clock
from whetstone.domain.config import JobConfig
from whetstone.domain.dataset import Dataset, Item
from whetstone.domain.events import PendingEvent
from whetstone.domain.job import Job, Progress
from whetstone.domain.prompt import Prompt
from whetstone.domain.results import RunSummary
from whetstone.domain.status import StopReason


class ItemSource(Protocol):
    async def page(self, offset: int, limit: int) -> list[Item]: ...

    async def at(self, positions: list[int]) -> list[Item]:
        """The items at these positions (0-based insertion order), in that order."""
        ...

    async def has_expected_outputs(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class JobContext:
    job: Job
    config: JobConfig
    prompt: Prompt
    dataset: Dataset
    items: ItemSource
    clock: Clock
    elapsed_ms: Callable[[], int]  # running time so far, paused time excluded
    has_expected_outputs: bool = True


@dataclass(frozen=True, slots=True)
class StepResult:
    events: list[PendingEvent]
    state: dict[str, Any]  # JSON-serialisable; the whole truth needed to continue
    summary: RunSummary
    progress: Progress
    stop: StopReason | None = None  # set on the step that ends the run


class JobEngine(Protocol):
    def initial_state(self) -> dict[str, Any]: ...

    async def step(self, state: dict[str, Any]) -> StepResult: ...


EngineFactory = Callable[[JobContext], JobEngine]
