"""``PlaceholderEngine``: walks the iterations without scoring anything.

The runner's tests drive it: its steps are cheap and predictable, so lifecycle,
checkpoint and recovery tests do not depend on the optimizer. It proposes nothing,
calls no model, reports no score, and keeps the original prompt as the result.
"""

from __future__ import annotations

from typing import Any

from whetstone.domain.events import IterationComplete, IterationStart, PendingEvent
from whetstone.domain.job import Progress
from whetstone.domain.results import HistoryEntry, RunSummary
from whetstone.domain.status import StopReason
from whetstone.domain.usage import Usage
from whetstone.engine.base import JobContext, StepResult


class PlaceholderEngine:
    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx

    def initial_state(self) -> dict[str, Any]:
        return {"iteration": 0}

    async def step(self, state: dict[str, Any]) -> StepResult:
        iteration = int(state["iteration"]) + 1
        now = self._ctx.clock.now
        events = [
            PendingEvent.of(IterationStart(iteration, now()), iteration=iteration, timestamp=now()),
            PendingEvent.of(
                IterationComplete(iteration, None, Usage()), iteration=iteration, timestamp=now()
            ),
        ]
        summary = RunSummary(
            best_prompt=self._ctx.prompt.body,
            iterations=iteration,
            history=tuple(HistoryEntry(i, None) for i in range(1, iteration + 1)),
        )
        done = iteration >= self._ctx.config.max_iterations
        return StepResult(
            events=events,
            state={"iteration": iteration},
            summary=summary,
            progress=Progress(iteration, None, None, None, Usage()),
            stop=StopReason.MAX_ITERATIONS if done else None,
        )
