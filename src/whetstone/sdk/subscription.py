"""``AsyncSubscription``: one job's events, each handed to ``on_event`` exactly once and in id
order, across dropped connections, slow-consumer evictions and server restarts.

The rules, in one place:

- The subscription remembers the id of the last event it delivered and resubscribes after
  it. An id at or below it is a duplicate and is dropped; an id past the next one is a gap,
  filled from the REST event log before the event itself is delivered.
- A link that breaks, fails to open or falls silent (no frame, not even a heartbeat, for
  ``heartbeat_timeout``) is retried with exponential backoff and full jitter; a connection
  that stayed up ``stable_after`` seconds resets the schedule. A 4408 (too slow) or
  :meth:`reconnect` resubscribes at once.
- ``Unauthorized``, ``NotFound`` (unknown or foreign job), any other refusal, an exception
  raised by ``on_event`` or ``on_connection_change``, and giving up after
  ``max_attempts`` retries in a row end the subscription: ``on_error(exc)``, no retry.
- The terminal event ends it too. ``job_complete``: ``on_complete(results)`` with the
  event's Results. ``job_cancelled``: ``on_complete(results)`` with the Results read over
  REST (``status == "cancelled"``, the best prompt found before the cancel).
  ``job_failed``: ``on_error(JobFailedError)``. So exactly one of ``on_complete`` and
  ``on_error`` is called, once, unless the caller unsubscribes first (then neither).
- ``on_connection_change`` sees ``connecting``, ``connected``, ``reconnecting`` and, last
  and always, ``closed``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Generator
from contextlib import aclosing
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol

from whetstone.errors import InternalError, RateLimited
from whetstone.sdk.backoff import Backoff, ReconnectPolicy, Timing
from whetstone.sdk.errors import JobFailedError, WhetstoneConnectionError
from whetstone.sdk.events import Event, EventPage, JobComplete, JobFailed, parse_event
from whetstone.sdk.links import Batches, Link, Resubscribe, Wire
from whetstone.sdk.models import Job, Results

log = logging.getLogger("whetstone.sdk")

# Worth another attempt; every other error ends the subscription.
TRANSIENT = (TimeoutError, WhetstoneConnectionError, InternalError, RateLimited)
MAX_PAGE = 5000  # the REST event log's largest page
_ENDINGS = {"job_complete": "completed", "job_failed": "failed", "job_cancelled": "cancelled"}


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class EventLog(Protocol):
    """The REST calls a subscription needs (``optimization`` provides them)."""

    async def get(self, job_id: str) -> Job: ...

    async def results(self, job_id: str) -> Results: ...

    async def events(
        self, job_id: str, *, after_event_id: int = 0, limit: int | None = None
    ) -> EventPage: ...


Callback = Callable[[Any], object]  # may return an awaitable, which is awaited


class _CallbackFailed(Exception):
    """``on_event`` or ``on_connection_change`` raised; the subscription ends with it."""


class _Interrupted(Exception):
    """A reconnect or an unsubscribe asked for from inside a callback."""


class AsyncSubscription:
    """Follows one job; see the module docstring. Use it as ``async with``, or ``await
    sub.wait()`` for the Results (or the error), or call :meth:`unsubscribe`."""

    def __init__(
        self,
        job_id: str,
        *,
        link: Link,
        log_reader: EventLog,
        policy: ReconnectPolicy,
        timing: Timing,
        on_event: Callback,
        on_complete: Callback | None = None,
        on_error: Callback | None = None,
        on_connection_change: Callback | None = None,
        after_event_id: int | None = None,
    ) -> None:
        if after_event_id is not None and after_event_id < 0:
            raise ValueError("after_event_id must be >= 0 (the last event id you processed)")
        self.job_id = job_id
        self.last_event_id = after_event_id  # None: live only, from the job's head
        self.state: ConnectionState | None = None
        self._link = link
        self._log = log_reader
        self._policy = policy
        self._timing = timing
        self._on_event = on_event
        self._on_complete = on_complete
        self._on_error = on_error
        self._on_state = on_connection_change
        self._stopping = False
        self._forced = False
        self._scope: asyncio.Timeout | None = None  # set while waiting on the network or a delay
        self._connected_at: float | None = None  # clock time the current connection opened
        loop = asyncio.get_running_loop()
        self._result: asyncio.Future[Results | None] = loop.create_future()
        self._result.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved
        self._task = loop.create_task(self._run(), name=f"whetstone-subscription-{job_id}")

    # -- control ----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._task.done()

    def add_done_callback(self, callback: Callable[[AsyncSubscription], object]) -> None:
        """Call ``callback(self)`` once the subscription has closed."""
        self._task.add_done_callback(lambda _: callback(self))

    def unsubscribe(self) -> None:
        """Stop: no event is delivered after this returns; ``closed`` follows. Neither
        ``on_complete`` nor ``on_error`` is called."""
        if self._task.done():
            return
        self._stopping = True
        if asyncio.current_task() is not self._task:  # else a callback: stops after it returns
            self._task.cancel()

    def reconnect(self) -> None:
        """Drop the connection and resubscribe at once (also cuts a backoff delay short)."""
        if self._task.done():
            return
        self._forced = True
        scope = self._scope
        if scope is not None and not scope.expired() and asyncio.current_task() is not self._task:
            scope.reschedule(asyncio.get_running_loop().time())

    async def wait(self) -> Results | None:
        """The Results given to ``on_complete``; None if unsubscribed; raises the error
        given to ``on_error``."""
        return await asyncio.shield(self._result)

    async def aclose(self) -> None:
        """Unsubscribe and wait until closed."""
        self.unsubscribe()
        await asyncio.wait({self._task})

    def __await__(self) -> Generator[Any, None, AsyncSubscription]:
        """``await client.optimization.subscribe(…)`` gives the (already running) subscription."""
        return self._itself().__await__()

    async def _itself(self) -> AsyncSubscription:
        return self

    async def __aenter__(self) -> AsyncSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            self._result.set_result(await self._follow())
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            self._task.uncancel()
        except _Interrupted:
            pass  # unsubscribed from inside a callback
        except Exception as exc:
            error = exc.__cause__ if isinstance(exc, _CallbackFailed) else exc
            assert isinstance(error, Exception)
            self._result.set_exception(error)
            await self._notify(self._on_error, error)
        finally:
            self._stopping = True
            if not self._result.done():
                self._result.set_result(None)
            if self.state is not ConnectionState.CLOSED:
                self.state = ConnectionState.CLOSED
                await self._notify(self._on_state, ConnectionState.CLOSED)

    async def _follow(self) -> Results | None:
        backoff = Backoff(self._policy, self._timing.rng)
        await self._set_state(ConnectionState.CONNECTING)
        while True:
            try:
                end = await self._attempt()
                break
            except TRANSIENT as exc:
                failure: Exception | None = exc
            except (Resubscribe, _Interrupted):
                if self._stopping:
                    raise _Interrupted from None
                failure = None
            up_since = self._connected_at
            if (
                up_since is not None
                and self._timing.clock() - up_since >= self._policy.stable_after
            ):
                backoff.reset()
            await self._set_state(ConnectionState.RECONNECTING)
            if failure is not None and not self._forced:
                await self._pause(backoff, failure)
            self._forced = False
        if isinstance(end, Job):
            return await self._finish(end.status, end.error)
        error = end.error if isinstance(end, JobFailed) else None
        return await self._finish(_ENDINGS[end.type], error, end)

    async def _attempt(self) -> Event | Job:
        """One connection, up to the terminal event; or the job, if it ended before a
        live-only subscription began."""
        self._connected_at = None
        async with asyncio.timeout(None) as scope:
            try:
                self._wait_on(scope, self._policy.connect_timeout)
                if self.last_event_id is None:
                    job = await self._log.get(self.job_id)
                    if job.is_terminal:
                        return job
                    self.last_event_id = job.last_event_id
                async with self._link(self.job_id, self.last_event_id) as batches:
                    self._connected_at = self._timing.clock()
                    self._wait_on(None)
                    await self._set_state(ConnectionState.CONNECTED)
                    return await self._pump(batches, scope)
            finally:
                self._scope = None

    async def _pump(self, batches: Batches, scope: asyncio.Timeout) -> Event:
        """Deliver until the terminal event, which is returned."""
        async with aclosing(batches):
            while not self._forced:
                self._wait_on(scope, self._policy.heartbeat_timeout)
                batch = await anext(batches)
                self._wait_on(None)
                end = await self._deliver_batch(batch)
                if end is not None:
                    return end
            raise _Interrupted  # reconnect() from a callback

    async def _pause(self, backoff: Backoff, failure: Exception) -> None:
        """The backoff delay before the next attempt (cut short by :meth:`reconnect`)."""
        if backoff.exhausted:
            raise WhetstoneConnectionError(
                f"gave up following optimization {self.job_id} after {backoff.failures} "
                f"failed attempts in a row; the last: {failure}",
                url=getattr(failure, "url", ""),
            ) from failure
        delay = backoff.next_delay()
        try:
            async with asyncio.timeout(None) as scope:
                self._scope = scope
                await self._timing.sleep(delay)
        except TimeoutError:
            pass  # reconnect() asked to go now
        finally:
            self._scope = None

    def _wait_on(self, scope: asyncio.Timeout | None, seconds: float = 0.0) -> None:
        """Arm ``scope`` (entered) for a network wait of at most ``seconds``, which
        :meth:`reconnect` may cut short; or, with None, disarm it before callbacks run."""
        if scope is not None:
            scope.reschedule(asyncio.get_running_loop().time() + seconds)
        elif self._scope is not None and not self._scope.expired():
            self._scope.reschedule(None)
        self._scope = scope

    # -- delivery ---------------------------------------------------------------------

    async def _deliver_batch(self, batch: list[Wire]) -> Event | None:
        for wire in batch:
            event_id = int(wire["id"])
            if event_id <= (self.last_event_id or 0):
                continue  # already delivered
            if event_id > (self.last_event_id or 0) + 1:
                await self._fill_gap(event_id)
            event = parse_event(wire)
            if await self._deliver(event):
                return event
        return None

    async def _fill_gap(self, until: int) -> None:
        """Deliver the events between the last one and ``until`` from the REST log."""
        while (last := self.last_event_id or 0) < until - 1:
            page = await self._log.events(
                self.job_id, after_event_id=last, limit=min(until - 1 - last, MAX_PAGE)
            )
            missing = [e for e in page.items if e.id < until]
            if not missing:
                raise InternalError(
                    f"events {last + 1}-{until - 1} of {self.job_id} are missing from the "
                    "server's log; resubscribing"
                )
            for event in missing:
                await self._deliver(event)

    async def _deliver(self, event: Event) -> bool:
        """Hand one event to ``on_event``; True for the terminal one."""
        if self._stopping:
            raise _Interrupted
        if event.id != (self.last_event_id or 0) + 1:
            raise InternalError(f"event {event.id} of {self.job_id} arrived out of order")
        self.last_event_id = event.id
        await self._call(self._on_event, event)
        return event.terminal

    async def _finish(
        self, status: str, error: dict[str, Any] | None, end: Event | None = None
    ) -> Results | None:
        """``on_complete`` or ``on_error`` for how the job ended."""
        if status == "failed":
            raise JobFailedError(self.job_id, error)
        if isinstance(end, JobComplete) and end.results is not None and end.results.job_id:
            results = end.results
        else:
            results = await self._fetch_results()
        await self._notify(self._on_complete, results)
        return results

    async def _fetch_results(self) -> Results:
        backoff = Backoff(self._policy, self._timing.rng)
        while True:
            try:
                return await self._log.results(self.job_id)
            except TRANSIENT as exc:
                await self._pause(backoff, exc)

    # -- callbacks --------------------------------------------------------------------

    async def _set_state(self, state: ConnectionState) -> None:
        if state is not self.state:
            self.state = state
            await self._call(self._on_state, state)

    async def _call(self, callback: Callback | None, arg: object) -> None:
        """A callback whose exception ends the subscription; so does an unsubscribe made
        while it ran."""
        if callback is None:
            return
        try:
            result = callback(arg)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            raise _CallbackFailed from exc
        if self._stopping:
            raise _Interrupted

    async def _notify(self, callback: Callback | None, arg: object) -> None:
        """A callback at the end, whose exception is only logged."""
        try:
            await self._call(callback, arg)
        except _CallbackFailed as exc:
            log.error("a subscription callback failed", exc_info=exc.__cause__)
        except _Interrupted:
            pass  # unsubscribed meanwhile: the end is the same
