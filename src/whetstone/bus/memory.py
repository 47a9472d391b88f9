"""``InProcessEventBus``: fan-out inside one process, one bounded queue per subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from whetstone.bus.base import SubscriberEvicted
from whetstone.domain.codec import EncodedEvent


class MemorySubscription:
    """One subscriber's bounded queue. Kept small: an idle subscription holds an empty list
    and no waiter until its reader waits (thousands of sockets sit idle at once)."""

    __slots__ = (
        "_bus",
        "_bytes",
        "_head",
        "_max_bytes",
        "_max_events",
        "_on_evict",
        "_pending",
        "_waiter",
        "closed",
        "evicted",
        "job_id",
        "notify",
    )

    def __init__(
        self,
        bus: InProcessEventBus,
        job_id: str,
        max_events: int,
        max_bytes: int,
        on_evict: Callable[[], None] | None = None,
    ) -> None:
        self.job_id = job_id
        self._bus = bus
        self._pending: list[EncodedEvent] = []
        self._head = 0  # the next event to hand out is _pending[_head]
        self._bytes = 0
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._waiter: asyncio.Future[None] | None = None
        self.evicted = False
        self.closed = False
        self._on_evict = on_evict
        self.notify: Callable[[], None] | None = None

    def offer(self, event: EncodedEvent) -> None:
        """Called by the bus; never blocks. Overflow evicts this subscriber only."""
        if self.evicted or self.closed:
            return
        queued = len(self._pending) - self._head
        if queued >= self._max_events or self._bytes + len(event.body) > self._max_bytes:
            self.evicted = True
            self._pending, self._head, self._bytes = [], 0, 0
            self._bus.discard(self)
            if self._on_evict is not None:
                self._on_evict()  # the owner may be stuck writing to its client: tell it now
        else:
            self._pending.append(event)
            self._bytes += len(event.body)
        if self._waiter is not None:
            if not self._waiter.done():
                self._waiter.set_result(None)
        elif self.notify is not None:
            self.notify()

    def get_nowait(self) -> EncodedEvent | None:
        if self.evicted:
            raise SubscriberEvicted(self.job_id)
        if self._head >= len(self._pending):
            return None
        event = self._pending[self._head]
        self._head += 1
        if self._head == len(self._pending):
            self._pending, self._head = [], 0
        self._bytes -= len(event.body)
        return event

    async def get(self) -> EncodedEvent:
        while True:
            event = self.get_nowait()
            if event is not None:
                return event
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        self.closed = True
        self._bus.discard(self)

    def __enter__(self) -> MemorySubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessEventBus:
    def __init__(self, *, max_events: int = 10_000, max_bytes: int = 8 * 1024 * 1024) -> None:
        self._subscribers: dict[str, set[MemorySubscription]] = {}
        self._max_events = max_events
        self._max_bytes = max_bytes

    def subscribe(
        self, job_id: str, on_evict: Callable[[], None] | None = None
    ) -> MemorySubscription:
        sub = MemorySubscription(self, job_id, self._max_events, self._max_bytes, on_evict)
        self._subscribers.setdefault(job_id, set()).add(sub)
        return sub

    def discard(self, sub: MemorySubscription) -> None:
        subs = self._subscribers.get(sub.job_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.job_id]

    def subscriber_count(self, job_id: str) -> int:
        return len(self._subscribers.get(job_id, ()))

    async def publish(self, job_id: str, events: Sequence[EncodedEvent]) -> None:
        for sub in list(self._subscribers.get(job_id, ())):
            for event in events:
                sub.offer(event)

    async def close(self) -> None:
        self._subscribers.clear()
