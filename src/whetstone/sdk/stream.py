"""``AsyncEventStream``: a subscription read as an async iterator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from whetstone.sdk.errors import JobFailedError
from whetstone.sdk.events import Event
from whetstone.sdk.subscription import AsyncSubscription, Callback

# Events read ahead of the consumer. A consumer slower than the job stalls the link when this
# fills; the server then drops it (4408) and it resumes from the last id, losing nothing.
BUFFER = 1000

Start = Callable[[Callback, Callback, Callback], AsyncSubscription]


@dataclass(frozen=True, slots=True)
class _End:
    error: BaseException | None = None


class AsyncEventStream:
    """``async for event in client.optimization.stream(job_id)``: every event, exactly once
    and in order, ending after the terminal one (``job_complete``, ``job_failed`` or
    ``job_cancelled``). It raises what ends a subscription early (``Unauthorized``,
    ``NotFound``, ``WhetstoneConnectionError`` once retries are exhausted). The subscription
    starts at the first ``__anext__``; ``aclose()`` (or ``async with``) stops it."""

    def __init__(self, start: Start) -> None:
        self._start = start
        self._queue: asyncio.Queue[Event | _End] = asyncio.Queue(BUFFER)
        self._sub: AsyncSubscription | None = None
        self._ended = False
        self.last_event_id: int | None = None  # of the last event handed out: resume after it

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Event:
        if self._ended:
            raise StopAsyncIteration
        if self._sub is None:
            self._sub = self._start(self._queue.put, self._complete, self._fail)
        item = await self._queue.get()
        if isinstance(item, Event):
            self.last_event_id = item.id
            return item
        self._ended = True
        if item.error is not None:
            raise item.error
        raise StopAsyncIteration

    async def _complete(self, results: object) -> None:
        await self._queue.put(_End())

    async def _fail(self, error: BaseException) -> None:
        # A failed job is a normal end of its stream: job_failed was the last event.
        await self._queue.put(_End(None if isinstance(error, JobFailedError) else error))

    async def aclose(self) -> None:
        self._ended = True
        if self._sub is not None:
            await self._sub.aclose()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
