"""One job's events for a client: the stored ones after an id, then live ones, with neither
a gap nor a duplicate at the seam. WebSocket and SSE both use it.

The order of operations is what makes the seam exact: register on the live bus
first, then read the log. An event published before we registered was stored
before we read, so replay has it; one stored after we read is published after
we registered, so live has it; one in both is skipped by id. A live event that
arrives ahead of its predecessors (two writers) makes us read the gap from the
store first, so ids always go out in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType

from whetstone.bus.base import EventBus, Subscription
from whetstone.domain.codec import EVENT_TYPES, EncodedEvent
from whetstone.domain.events import TERMINAL_PAYLOADS
from whetstone.store.base import EventPage, Store

REPLAY_BATCH = 500
TERMINAL_TYPES = frozenset(EVENT_TYPES[cls] for cls in TERMINAL_PAYLOADS)


async def stored_pages(store: Store, job_id: str, after: int) -> AsyncIterator[EventPage]:
    """Stored events after ``after`` in batches of at most 500; the last has ``has_more``
    false (and there is always at least one)."""
    while True:
        page = await store.events.after(job_id, after, REPLAY_BATCH)
        yield page
        if not page.has_more:
            return
        after = page.ids[-1]


@dataclass(frozen=True, slots=True)
class Stored:
    """A run of stored events: what a ``replay`` frame or a gap fill carries."""

    page: EventPage


class JobStream:
    __slots__ = (
        "_after",
        "_bus",
        "_on_evict",
        "_store",
        "_sub",
        "_terminal_at",
        "finished",
        "head",
        "job_id",
        "last",
    )

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        job_id: str,
        after: int | None,
        on_evict: Callable[[], None] | None = None,
    ) -> None:
        self._on_evict = on_evict
        self._store = store
        self._bus = bus
        self.job_id = job_id
        self._after = after
        self._sub: Subscription | None = None
        self.last = 0  # the id of the last event handed out
        self.head = 0  # the job's last event id when the stream began
        self.finished = False  # the job's terminal event was handed out
        self._terminal_at: int | None = None

    async def __aenter__(self) -> JobStream:
        self._sub = self._bus.subscribe(self.job_id, self._on_evict)  # first: see the docstring
        job = await self._store.jobs.get_any(self.job_id)
        self.head = job.last_event_id
        self.last = self.head if self._after is None else min(self._after, self.head)
        self._terminal_at = self.head if job.status.is_terminal else None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._sub is not None:
            self._sub.close()

    async def replay(self) -> AsyncIterator[EventPage]:
        """Stored events after ``after`` in batches of at most 500 (empty when live only);
        the last batch has ``has_more`` false."""
        if self._after is None:
            return
        async for page in stored_pages(self._store, self.job_id, self.last):
            if page.ids:
                self.last = page.ids[-1]
            if TERMINAL_TYPES.intersection(page.types):
                self.finished = True  # the job ended while we read
            yield page
        if self._terminal_at is not None and self.last >= self._terminal_at:
            self.finished = True

    async def live(self) -> AsyncIterator[EncodedEvent | Stored]:
        """Live events after everything handed out so far, waiting for each; ends after the
        terminal event. Raises ``SubscriberEvicted`` if this subscriber fell behind."""
        assert self._sub is not None
        while not self.done:
            event = await self._sub.get()
            async for item in self.accept(event):
                yield item

    def take_ready(self) -> tuple[list[EncodedEvent], EncodedEvent | None]:
        """The queued events that follow on in order, taken without waiting: a WebSocket
        session drains a subscription this way when the bus says it has something (see
        ``Subscription.notify``), so an idle subscription needs no task. The second item is
        an event that overtook its predecessors and needs a gap fill first (hand it to
        :meth:`accept`), else None. Events already handed out are dropped."""
        assert self._sub is not None
        taken: list[EncodedEvent] = []
        while not self.done:
            event = self._sub.get_nowait()
            if event is None:
                break
            if event.id <= self.last:
                continue
            if event.id != self.last + 1:
                return taken, event
            self.last = event.id
            taken.append(event)
            if event.terminal:
                self.finished = True
        return taken, None

    @property
    def done(self) -> bool:
        """The terminal event was handed out (or stored before the stream began and
        everything up to it was handed out): nothing more will come."""
        return self.finished or (self._terminal_at is not None and self.last >= self._terminal_at)

    def notify(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (synchronously, from the publisher) whenever a live event is
        queued while nobody waits on :meth:`live`. ``None`` stops the calls."""
        assert self._sub is not None
        self._sub.notify = callback

    async def accept(self, event: EncodedEvent) -> AsyncIterator[EncodedEvent | Stored]:
        """Hand out ``event`` in order: skip one already handed out, fill a gap before it
        from the store (a live event that overtook its predecessors)."""
        if event.id <= self.last:
            return
        if event.id > self.last + 1:
            gap = await self._store.events.after(self.job_id, self.last, event.id - self.last - 1)
            if gap.ids:
                self.last = gap.ids[-1]
                yield Stored(gap)
            if event.id != self.last + 1:  # the store had not caught up: impossible
                return  # pragma: no cover - events are stored before they are published
        self.last = event.id
        yield event
        if event.terminal:
            self.finished = True
