"""``Whetstone``: the blocking client, a thin wrapper running :class:`AsyncWhetstone` on a
private event loop (see ``portal.py``). Same methods, same arguments, not awaited."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from whetstone.sdk.backoff import ReconnectPolicy, Timing
from whetstone.sdk.client import AsyncWhetstone
from whetstone.sdk.events import Event
from whetstone.sdk.links import LinkKind
from whetstone.sdk.models import Health, Results
from whetstone.sdk.optimization import AsyncOptimization
from whetstone.sdk.portal import Bound, Portal, blocking, blocking_iter, in_callback, in_thread
from whetstone.sdk.resources import AsyncDatasets, AsyncPrompts
from whetstone.sdk.stream import AsyncEventStream
from whetstone.sdk.subscription import AsyncSubscription, ConnectionState

SyncCallback = Callable[[Any], object]


class Prompts(Bound):
    create = blocking(AsyncPrompts.create)
    list = blocking(AsyncPrompts.list)
    iterate = blocking_iter(AsyncPrompts.iterate)
    get = blocking(AsyncPrompts.get)
    create_version = blocking(AsyncPrompts.create_version)
    versions = blocking(AsyncPrompts.versions)


class Datasets(Bound):
    create = blocking(AsyncDatasets.create)
    list = blocking(AsyncDatasets.list)
    iterate = blocking_iter(AsyncDatasets.iterate)
    get = blocking(AsyncDatasets.get)
    add_items = blocking(AsyncDatasets.add_items)
    items = blocking(AsyncDatasets.items)
    iterate_items = blocking_iter(AsyncDatasets.iterate_items)


class Subscription:
    """A running subscription (see :class:`AsyncSubscription`). Its callbacks run one at a
    time on a worker thread, in event order, and may call the blocking client."""

    def __init__(self, portal: Portal, inner: AsyncSubscription) -> None:
        self._portal = portal
        self._inner = inner

    @property
    def job_id(self) -> str:
        return self._inner.job_id

    @property
    def last_event_id(self) -> int | None:
        return self._inner.last_event_id

    @property
    def state(self) -> ConnectionState | None:
        return self._inner.state

    @property
    def done(self) -> bool:
        return self._inner.done

    def unsubscribe(self) -> None:
        """Stop; once this returns no callback starts (one already running finishes)."""
        if self._portal.usable:
            self._portal.run(self._inner.aclose())

    def reconnect(self) -> None:
        """Drop the connection and resubscribe at once."""
        self._portal.loop.call_soon_threadsafe(self._inner.reconnect)

    def wait(self, timeout: float | None = None) -> Results | None:
        """Block until the subscription ends: the Results given to ``on_complete``, None if
        unsubscribed; raises the error given to ``on_error``, or ``TimeoutError``."""
        if in_callback():
            raise RuntimeError("wait() inside a subscription callback would wait for itself")
        return self._portal.run(asyncio.wait_for(self._inner.wait(), timeout))

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()


class EventStream(Iterator[Event]):
    """``for event in client.optimization.stream(job_id)``; see :class:`AsyncEventStream`."""

    def __init__(self, portal: Portal, inner: AsyncEventStream) -> None:
        self._portal = portal
        self._inner = inner

    @property
    def last_event_id(self) -> int | None:
        return self._inner.last_event_id

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Event:
        try:
            return self._portal.run(self._inner.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        if self._portal.usable:
            self._portal.run(self._inner.aclose())

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Optimization(Bound):
    _inner: AsyncOptimization

    start = blocking(AsyncOptimization.start)
    list = blocking(AsyncOptimization.list)
    iterate = blocking_iter(AsyncOptimization.iterate)
    get = blocking(AsyncOptimization.get)
    pause = blocking(AsyncOptimization.pause)
    resume = blocking(AsyncOptimization.resume)
    cancel = blocking(AsyncOptimization.cancel)
    results = blocking(AsyncOptimization.results)
    events = blocking(AsyncOptimization.events)
    iterate_events = blocking_iter(AsyncOptimization.iterate_events)

    def subscribe(
        self,
        job_id: str,
        on_event: SyncCallback,
        on_complete: SyncCallback | None = None,
        on_error: SyncCallback | None = None,
        on_connection_change: SyncCallback | None = None,
        *,
        after_event_id: int | None = None,
        transport: LinkKind = "websocket",
    ) -> Subscription:
        """As :meth:`AsyncOptimization.subscribe`, with plain callbacks run on a worker
        thread; returns at once, the subscription runs in the background."""

        async def start() -> AsyncSubscription:
            return self._inner.subscribe(
                job_id,
                in_thread(on_event) or _ignore,
                in_thread(on_complete),
                in_thread(on_error),
                in_thread(on_connection_change),
                after_event_id=after_event_id,
                transport=transport,
            )

        return Subscription(self._portal, self._portal.run(start()))

    def stream(
        self,
        job_id: str,
        *,
        after_event_id: int | None = None,
        transport: LinkKind = "websocket",
    ) -> EventStream:
        """``for event in …``: the job's events until its terminal one."""
        inner = self._inner.stream(job_id, after_event_id=after_event_id, transport=transport)
        return EventStream(self._portal, inner)


def _ignore(_: object) -> None:
    return None


def _shutdown(portal: Portal, client: AsyncWhetstone) -> None:
    if portal.usable:
        portal.run(client.aclose())
        portal.close()


class Whetstone:
    """The blocking client; the arguments are :class:`AsyncWhetstone`'s. ``transport`` is
    an httpx transport for the async client (``httpx.MockTransport`` serves both).
    Close it with ``close()`` or ``with``; it is also closed when garbage collected."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        reconnect: ReconnectPolicy | None = None,
        timing: Timing | None = None,
        trust_env: bool = True,
    ) -> None:
        client = AsyncWhetstone(
            base_url,
            api_key,
            timeout=timeout,
            transport=transport,
            headers=headers,
            reconnect=reconnect,
            timing=timing,
            trust_env=trust_env,
        )
        self._portal = portal = Portal()
        self._async = client
        self.base_url = client.base_url
        self.prompts = Prompts(portal, client.prompts)
        self.datasets = Datasets(portal, client.datasets)
        self.optimization = Optimization(portal, client.optimization)
        self._finalizer = weakref.finalize(self, _shutdown, portal, client)

    def health(self) -> Health:
        return self._portal.run(self._async.health())

    def login_link(self, next_path: str = "/") -> str:
        """A one-time browser login link; see :meth:`AsyncWhetstone.login_link`."""
        return self._portal.run(self._async.login_link(next_path))

    def close(self) -> None:
        """End every subscription, close the connections and stop the background thread."""
        self._finalizer()

    def __enter__(self) -> Whetstone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Whetstone(base_url={self.base_url!r})"
