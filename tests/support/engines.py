"""Engines for runner tests: real implementations of the ``JobEngine`` protocol."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from whetstone.engine.base import JobContext, StepResult
from whetstone.engine.placeholder import PlaceholderEngine

StepHook = Callable[[JobContext, int], Awaitable[None]]


class HookedEngine:
    """The placeholder engine, calling ``hook(ctx, iteration)`` after computing each step and
    before the runner writes it: a test can pause, cancel or crash the job at an exact point."""

    def __init__(self, ctx: JobContext, hook: StepHook) -> None:
        self._ctx = ctx
        self._inner = PlaceholderEngine(ctx)
        self._hook = hook

    def initial_state(self) -> dict[str, Any]:
        return self._inner.initial_state()

    async def step(self, state: dict[str, Any]) -> StepResult:
        result = await self._inner.step(state)
        await self._hook(self._ctx, int(result.state["iteration"]))
        return result


def hooked(hook: StepHook) -> Callable[[JobContext], HookedEngine]:
    return lambda ctx: HookedEngine(ctx, hook)


class BoomError(RuntimeError):
    """Raised by test engines to make a step fail."""
