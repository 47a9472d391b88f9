"""Fakes implementing our protocols for the engine's unit tests: ``FakeProvider`` at the
provider boundary (records every request and holds each call at an ``asyncio.Event`` the
test controls, open by default) and ``ListItems``, an in-memory ``ItemSource``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from whetstone.engine.items import ListItemSource
from whetstone.providers.base import Completion, CompletionRequest

WAIT_SECONDS = 5.0  # the bound on every wait for a condition


class FakeProvider:
    def __init__(
        self,
        name: str = "fake",
        *,
        reply: Callable[[CompletionRequest], str] | None = None,
        input_tokens: int = 10,
        output_tokens: int = 5,
        gated: bool = False,
    ) -> None:
        self.name = name
        self.requests: list[CompletionRequest] = []
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.in_flight = 0
        self.peak = 0
        self.finished = 0
        self._reply = reply or (lambda _request: "ok")
        self._tokens = (input_tokens, output_tokens)
        self._waiters: list[tuple[int, asyncio.Event]] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self._wake()
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        self.finished += 1
        return Completion(self._reply(request), *self._tokens, request.model)

    async def close(self) -> None:
        return None

    def _wake(self) -> None:
        for count, event in self._waiters:
            if self.in_flight >= count:
                event.set()

    async def until_in_flight(self, count: int) -> None:
        """Wait (bounded) until ``count`` calls are inside ``complete`` at once."""
        event = asyncio.Event()
        self._waiters.append((count, event))
        self._wake()
        await asyncio.wait_for(event.wait(), WAIT_SECONDS)


ListItems = ListItemSource  # the engine tests' name for it
