"""Helpers for the SDK's tests against a real server: an engine whose iterations wait for the
test, and jobs to follow."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.sdk.support import TIMEOUT
from tests.support.api import Api
from tests.support.engines import BoomError
from whetstone.engine.base import JobContext


class Gates:
    """The step hook of the placeholder engine (``tests/support/engines.hooked``): iteration
    ``n`` of any job is written only once ``n`` iterations have been released, and the one
    in ``fail_at`` raises instead."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.released = 0
        self.fail_at = fail_at
        self._changed = asyncio.Condition()

    async def hook(self, ctx: JobContext, iteration: int) -> None:
        async with asyncio.timeout(TIMEOUT), self._changed:
            await self._changed.wait_for(lambda: self.released >= iteration)
        if iteration == self.fail_at:
            raise BoomError("the engine broke")

    async def release(self, count: int = 1) -> None:
        async with self._changed:
            self.released += count
            self._changed.notify_all()


async def job(api: Api, iterations: int, **config: Any) -> str:
    """A queued placeholder job of ``iterations`` steps: 1 + 2 per step + 1 events."""
    created = await api.job({"maxIterations": iterations, "dryRun": True, **config})
    return str(created["id"])
