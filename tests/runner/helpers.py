"""Helpers for runner tests: a scripted step hook, event traces, bounded waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from whetstone.bus.base import Subscription
from whetstone.domain.events import TERMINAL_PAYLOADS
from whetstone.engine.base import JobContext
from whetstone.runner.runner import JobRunner
from whetstone.server.services import Services

Action = Callable[[JobContext, int], Awaitable[None]]
Trace = list[tuple[str, int]]

WAIT = 10.0  # upper bound of every wait on a condition; a passing test never reaches it


class Steps:
    """The step hook of the runner tests' engine: records every step computed, as
    ``(job id, iteration)``, and runs a one-shot action scheduled for that iteration
    before the runner writes the step (pause, cancel, block, raise)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self._actions: dict[tuple[str | None, int], Action] = {}

    def at(self, iteration: int, action: Action, job_id: str | None = None) -> None:
        """Run ``action`` once, at ``iteration`` of ``job_id`` (of any job if None)."""
        self._actions[(job_id, iteration)] = action

    async def hook(self, ctx: JobContext, iteration: int) -> None:
        self.seen.append((ctx.job.id, iteration))
        action = self._actions.pop((ctx.job.id, iteration), None) or self._actions.pop(
            (None, iteration), None
        )
        if action is not None:
            await action(ctx, iteration)

    def iterations(self, job_id: str) -> list[int]:
        return [i for j, i in self.seen if j == job_id]


class Gate:
    """An action that reports it was reached and then blocks until opened (or cancelled)."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, ctx: JobContext, iteration: int) -> None:
        self.reached.set()
        await self.opened.wait()

    async def wait_reached(self) -> None:
        await asyncio.wait_for(self.reached.wait(), WAIT)


def trace(events: list[dict[str, Any]]) -> Trace:
    return [(e["eventType"], e["iteration"]) for e in events]


def uninterrupted(iterations: int) -> Trace:
    """The event trace of a placeholder run of ``iterations`` iterations, start to end."""
    steps = [
        (kind, i)
        for i in range(1, iterations + 1)
        for kind in ("iteration_start", "iteration_complete")
    ]
    return [("job_started", 0), *steps, ("job_complete", iterations)]


def assert_contiguous(events: list[dict[str, Any]]) -> None:
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def runner_of(services: Services) -> JobRunner:
    assert services.runner is not None, "the services fixture builds a runner"
    return services.runner


async def until_terminal(sub: Subscription) -> str:
    """Wait (bounded) for the job's terminal event on the bus; returns its class name."""

    async def terminal() -> str:
        while True:
            event = await sub.get()
            if isinstance(event.event.payload, TERMINAL_PAYLOADS):
                return type(event.event.payload).__name__

    return await asyncio.wait_for(terminal(), WAIT)


async def stop_within(runner: JobRunner, seconds: float = 5.0) -> bool:
    """Stop a background runner; False if ``stop()`` had not returned after ``seconds``.

    On Python 3.11, ``asyncio.wait_for`` swallows a cancellation that arrives as the awaited
    event fires, so the runner's loop can survive ``stop()`` (see test_background.py). Then
    cancel the loop once more, so that the test ends and reports it instead of hanging."""
    stopping = asyncio.create_task(runner.stop())
    done, _ = await asyncio.wait({stopping}, timeout=seconds)
    if not done:
        for task in asyncio.all_tasks():
            if task.get_name() == "whetstone-runner":
                task.cancel()
        await asyncio.wait_for(stopping, WAIT)
    return bool(done)
