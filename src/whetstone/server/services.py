"""``Services``: what one app instance runs on, wired explicitly (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from whetstone.bus.base import EventBus
from whetstone.clock import Clock
from whetstone.engine.pricing import PriceTable
from whetstone.providers.registry import ProviderPool
from whetstone.runner.runner import JobRunner
from whetstone.settings import Settings
from whetstone.store.base import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: EventBus
    clock: Clock
    runner: JobRunner | None = None
    providers: ProviderPool | None = None
    prices: PriceTable = field(default_factory=PriceTable)

    async def start(self) -> None:
        await self.store.start()
        if self.runner is not None:
            await self.runner.start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        await self.bus.close()
        if self.providers is not None:
            await self.providers.close()
        await self.store.close()

    def wake_runner(self) -> None:
        if self.runner is not None:
            self.runner.notify()

    async def __aenter__(self) -> Services:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
