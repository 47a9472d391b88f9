"""What the SDK tests share: a recorder of a subscription's callbacks, with bounded waits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from whetstone.sdk import Event, Results

TIMEOUT = 10.0  # the bound on any single wait; a healthy run needs a fraction of it


@dataclass
class Recorder:
    """Every callback of one subscription, in order (use on the test's own loop)."""

    events: list[Event] = field(default_factory=list)
    results: list[Results] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_event": self.on_event,
            "on_complete": self.on_complete,
            "on_error": self.on_error,
            "on_connection_change": self.on_state,
        }

    async def _note(self, items: list[Any], item: Any) -> None:
        async with self.changed:
            items.append(item)
            self.changed.notify_all()

    async def on_event(self, event: Event) -> None:
        await self._note(self.events, event)

    async def on_complete(self, results: Results) -> None:
        await self._note(self.results, results)

    async def on_error(self, error: BaseException) -> None:
        await self._note(self.errors, error)

    async def on_state(self, state: str) -> None:
        await self._note(self.states, str(state))

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.events]

    async def until(self, predicate: Any, within: float = TIMEOUT) -> None:
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(predicate)

    async def closed(self, within: float = TIMEOUT) -> None:
        await self.until(lambda: "closed" in self.states, within)

    async def event_count(self, count: int, within: float = TIMEOUT) -> None:
        await self.until(lambda: len(self.events) >= count, within)
