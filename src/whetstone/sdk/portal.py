"""A private event loop on a background thread, and the helpers that turn the async client's
methods into blocking ones. This is all the sync client adds: it works the same from a
script, a thread, or a notebook whose own loop is already running."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from whetstone.sdk.subscription import Callback

P = ParamSpec("P")
T = TypeVar("T")

_local = threading.local()  # ``in_callback`` is set on threads running a user callback


def in_callback() -> bool:
    """True on a thread that is running a subscription callback of the sync client."""
    return bool(getattr(_local, "in_callback", False))


class Portal:
    """Runs coroutines on its own loop, in a daemon thread, for callers on other threads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="whetstone-sdk", daemon=True)
        self._thread.start()
        self.closed = False

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the portal's loop and wait for its result (or exception)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "the blocking Whetstone client was called from its own event loop; "
                "use AsyncWhetstone in async code"
            )
        if self.closed:
            coro.close()
            raise RuntimeError("this Whetstone client is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt: stop the work too
            raise

    def iterate(self, source: AsyncIterator[T]) -> Iterator[T]:
        """A blocking iterator over ``source``, one item per round trip to the loop."""

        async def step() -> T:
            return await anext(source)

        try:
            while True:
                try:
                    item = self.run(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            close = getattr(source, "aclose", None)
            if close is not None and self.usable:
                self.run(close())

    @property
    def usable(self) -> bool:
        """Open, and called from another thread than its own."""
        return not self.closed and threading.current_thread() is not self._thread

    def close(self) -> None:
        if self.closed:
            return
        self.run(self.loop.shutdown_asyncgens())
        self.run(self.loop.shutdown_default_executor())
        self.closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class Bound:
    """A blocking facade of one async object: its methods run on ``portal``."""

    def __init__(self, portal: Portal, inner: Any) -> None:
        self._portal = portal
        self._inner = inner


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Bound, P], T]:
    """The blocking twin of an async method, with the same parameters."""

    @functools.wraps(method)
    def call(self: Bound, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._portal.run(method(self._inner, *args, **kwargs))

    return call


def blocking_iter(
    method: Callable[Concatenate[Any, P], AsyncIterator[T]],
) -> Callable[Concatenate[Bound, P], Iterator[T]]:
    """The blocking twin of a method that returns an async iterator."""

    @functools.wraps(method)
    def call(self: Bound, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._portal.iterate(method(self._inner, *args, **kwargs))

    return call


def in_thread(callback: Callable[[Any], object] | None) -> Callback | None:
    """A sync callback run on a worker thread, so it may call the blocking client (the loop
    stays free) while events stay in order (each is awaited before the next)."""
    if callback is None:
        return None

    def run(arg: object) -> object:
        _local.in_callback = True
        try:
            return callback(arg)
        finally:
            _local.in_callback = False

    async def call(arg: object) -> None:
        await asyncio.to_thread(run, arg)

    return call
