"""The ``EventBus`` protocol: "something new happened on job X", after it is stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from whetstone.domain.codec import EncodedEvent


class SubscriberEvicted(Exception):
    """The subscriber fell behind its bounded queue; it must resubscribe from its last id."""


class Subscription(Protocol):
    job_id: str
    notify: Callable[[], None] | None
    """Called (synchronously, by the publisher) when an event is queued and no one waits in
    :meth:`get`, and after an eviction; lets an owner drain on demand instead of keeping a
    task parked in :meth:`get`."""

    async def get(self) -> EncodedEvent:
        """The next live event; raises :class:`SubscriberEvicted` after an overflow."""
        ...

    def get_nowait(self) -> EncodedEvent | None: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, job_id: str, events: Sequence[EncodedEvent]) -> None:
        """Hand stored events to every subscriber of the job without waiting on any."""
        ...

    def subscribe(self, job_id: str, on_evict: Callable[[], None] | None = None) -> Subscription:
        """A bounded subscription; ``on_evict`` is called (synchronously) if it overflows."""
        ...

    async def close(self) -> None: ...
