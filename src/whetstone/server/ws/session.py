"""``/ws/optimization``: one session per connection, served straight from ASGI.

A session is its connection's reader (the ASGI task itself). A subscription has a task
only while it has work: opening (``subscribed`` and the replay), then a short drain each
time the bus queues events for it (the bus calls the subscription's ``notify``). An idle
subscribed socket holds no task of its own; heartbeats for every socket come from one
shared timer (:class:`Heartbeats`). The route sits ahead of the framework's routing
(:class:`WebSocketRoute`): a socket lives for hours, and every live event goes through it.

Backpressure is the slow-consumer test: a send to a stalled client waits, which
stalls only that socket's drains; their bounded bus subscriptions then overflow,
the bus tells the session at once, and the socket is closed with 4408 so the
client resubscribes from its last id. The job and every other client carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from whetstone.bus.base import SubscriberEvicted
from whetstone.domain.codec import event_frame
from whetstone.domain.job import ApiKey
from whetstone.errors import NotFound
from whetstone.server import origins, ratelimit
from whetstone.server.services import Services
from whetstone.server.streaming import JobStream, Stored, stored_pages
from whetstone.server.ws import protocol as p
from whetstone.server.ws.asgi import AsgiWebSocket, Disconnected

log = logging.getLogger(__name__)

WS_PATH = "/ws/optimization"
UNAUTHORIZED = 4401
TOO_SLOW = 4408
TOO_BIG = 1009
RATE_LIMITED = 4429  # closed with 'rate limited: retry in N s' (ratelimit.py)
_TOO_SLOW = "too slow: resubscribe with afterEventId = your last id"


def _header_token(ws: AsgiWebSocket) -> str | None:
    auth = ws.header("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return ws.header("x-api-key") or None


class WebSocketRoute:
    """Pure ASGI middleware: ``/ws/optimization`` goes to a :class:`SocketSession`,
    everything else to the app untouched."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.heartbeats = Heartbeats(services.settings.ws_heartbeat_seconds)
        self.origins = origins.OriginPolicy(services.settings.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
            if not self.origins.allows(scope):  # a page of a foreign origin: 403
                await origins.refuse(scope, receive, send)
                return
            ws = AsgiWebSocket(scope, receive, send)
            await SocketSession(ws, self.services, self.heartbeats).run()
            return
        await self.app(scope, receive, send)


class Heartbeats:
    """One timer for every open socket: a socket that has sent nothing for an interval
    gets a ``heartbeat`` (checked four times per interval)."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._sessions: set[SocketSession] = set()
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    def add(self, session: SocketSession) -> None:
        self._sessions.add(session)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, session: SocketSession) -> None:
        self._sessions.discard(session)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._sessions:
            await asyncio.sleep(self._interval / 4)
            due = loop.time() - self._interval
            for session in list(self._sessions):
                if session.last_send <= due and not session.heartbeat_pending:
                    session.heartbeat_pending = True
                    send = loop.create_task(session.heartbeat())
                    self._sends.add(send)
                    send.add_done_callback(self._sends.discard)


class SocketSession:
    __slots__ = (
        "_closer",
        "_closing",
        "_heartbeats",
        "_key",
        "_reader",
        "_settings",
        "_streams",
        "_svc",
        "_tasks",
        "_ws",
        "heartbeat_pending",
        "last_send",
    )

    def __init__(self, ws: AsgiWebSocket, svc: Services, heartbeats: Heartbeats) -> None:
        self._ws = ws
        self._svc = svc
        self._settings = svc.settings
        self._heartbeats = heartbeats
        self._streams: dict[str, JobStream] = {}  # open subscriptions, by job
        self._tasks: dict[str, asyncio.Task[None]] = {}  # a subscription's running work
        self._key: ApiKey | None = None
        self._closing = False
        self._closer: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[object] | None = None
        self.last_send = 0.0  # loop time of the last frame sent: the heartbeat's clock
        self.heartbeat_pending = False

    async def run(self) -> None:
        """Accept, authenticate, then read commands until the client leaves or the session
        is closed (a close from a drain cancels this reader: see :meth:`close`)."""
        if not await self._ws.accept():
            return
        try:
            self._key = await self._authenticate()
            if self._key is None:
                return
            await self._put(p.AUTHENTICATED)
            self._reader = asyncio.current_task()
            self._heartbeats.add(self)
            await self._read()
        except Disconnected:
            pass
        except asyncio.CancelledError:
            if not self._closing:
                raise
            if self._reader is not None:
                self._reader.uncancel()  # we cancelled ourselves to stop reading
        finally:
            self._reader = None
            self._heartbeats.discard(self)
            tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for stream in self._streams.values():
                stream.close()
            self._streams.clear()

    # -- authentication ---------------------------------------------------------------

    async def _authenticate(self) -> ApiKey | None:
        token = _header_token(self._ws)
        if token is None:
            token = await self._first_message_token()
            if token is None:
                return None
        try:  # a connection counts as a request against the key's (or address's) limit
            key = await ratelimit.authenticate(
                self._ws.scope, token, self._svc.store.keys.authenticate
            )
        except ratelimit.TooManyRequests as exc:
            await self._ws.close(RATE_LIMITED, f"rate limited: retry in {exc.retry_after} s")
            return None
        if key is None:
            await self._refuse("invalid API key")
        return key

    async def _first_message_token(self) -> str | None:
        try:
            async with asyncio.timeout(self._settings.ws_auth_timeout_seconds):
                text = await self._ws.receive()
        except TimeoutError:
            text = None
        command = None
        if isinstance(text, str):
            with contextlib.suppress(p.ProtocolError):
                command = p.parse(text)
        if not isinstance(command, p.Auth):
            await self._refuse(
                'authenticate first: the first message must be {"type": "auth", "token": "<key>"}'
            )
            return None
        return command.token

    async def _refuse(self, message: str) -> None:
        with contextlib.suppress(Disconnected):
            await self._ws.send_text(p.error("unauthorized", message))
        await self._ws.close(UNAUTHORIZED, "unauthorized")

    # -- reading ----------------------------------------------------------------------

    async def _read(self) -> None:
        limit = self._settings.ws_max_frame_bytes
        while True:
            text = await self._ws.receive()
            if not isinstance(text, str):
                await self._put(
                    p.error("invalid_message", "binary frames are not supported; send JSON text")
                )
                continue
            if len(text) > limit // 4 and len(text.encode()) > limit:
                await self.close(TOO_BIG, "frame too big")
                return
            try:
                await self._handle(p.parse(text))
            except p.ProtocolError as exc:
                await self._put(p.error(exc.code, exc.message, exc.job_id))

    async def _handle(self, command: p.Command) -> None:
        assert self._key is not None
        if isinstance(command, p.Ping):
            await self._put(p.PONG)
        elif isinstance(command, p.Auth):
            key = await self._svc.store.keys.authenticate(command.token)
            if key is None or key.workspace_id != self._key.workspace_id:
                await self._put(p.error("unauthorized", "invalid API key for this connection"))
            else:
                await self._put(p.AUTHENTICATED)
        elif isinstance(command, p.Subscribe):
            await self._subscribe(command)
        elif isinstance(command, p.Unsubscribe):
            await self._end(command.job_id)
            await self._put(p.unsubscribed(command.job_id))
        elif isinstance(command, p.Replay):
            await self._check_job(command.job_id)
            await self._replay(command)

    async def _check_job(self, job_id: str) -> None:
        assert self._key is not None
        try:
            await self._svc.store.jobs.get(self._key.workspace_id, job_id)
        except NotFound as exc:
            raise p.ProtocolError(
                "not_found", f"optimization {job_id!r} not found", job_id
            ) from exc

    async def _subscribe(self, command: p.Subscribe) -> None:
        await self._check_job(command.job_id)
        await self._end(command.job_id)  # a resubscribe replaces the subscription
        if len(self._streams) >= self._settings.ws_max_subscriptions:
            limit = self._settings.ws_max_subscriptions
            raise p.ProtocolError(
                "too_many_subscriptions", f"at most {limit} jobs per connection", command.job_id
            )
        job_id = command.job_id
        stream = JobStream(self._svc.store, self._svc.bus, job_id, command.after, self._evicted)
        self._streams[job_id] = stream

        async def opening() -> None:
            """``subscribed``, the replay; then the bus wakes us (see :meth:`_wake`)."""
            await stream.__aenter__()
            await self._put(p.subscribed(job_id, stream.head))
            async for page in stream.replay():
                await self._put(p.replay(job_id, page))
            stream.notify(lambda: self._wake(job_id, stream))

        self._tasks[job_id] = asyncio.create_task(self._work(job_id, stream, opening))

    async def _end(self, job_id: str) -> None:
        """Stop the job's subscription: its running work first, then its bus queue."""
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        stream = self._streams.pop(job_id, None)
        if stream is not None:
            stream.close()

    async def _replay(self, command: p.Replay) -> None:
        async for page in stored_pages(self._svc.store, command.job_id, command.after):
            await self._put(p.replay(command.job_id, page))

    # -- one subscription -------------------------------------------------------------

    def _evicted(self) -> None:
        """Called by the bus when a subscription overflows, while we may be stuck sending."""
        if self._closer is None:
            self._closer = asyncio.get_running_loop().create_task(self.close(TOO_SLOW, _TOO_SLOW))

    def _wake(self, job_id: str, stream: JobStream) -> None:
        """The bus queued events for ``job_id``: drain them, unless a task already is."""
        if job_id not in self._tasks and self._streams.get(job_id) is stream:
            self._tasks[job_id] = asyncio.get_running_loop().create_task(self._work(job_id, stream))

    async def _work(
        self,
        job_id: str,
        stream: JobStream,
        first: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Run ``first`` if given (the opening), then send every queued event. Between the
        last look at the queue and leaving ``_tasks`` nothing awaits, so an event queued
        later always finds no task and starts a new one (see :meth:`_wake`)."""
        try:
            if first is not None:
                await first()
            send = self._ws.send_text
            while True:
                events, overtaking = stream.take_ready()
                if not events and overtaking is None:
                    break
                for event in events:
                    await send(event.ws_frame)
                if overtaking is not None:
                    async for item in stream.accept(overtaking):
                        if isinstance(item, Stored):
                            for body in item.page.bodies:
                                await send(event_frame(job_id, body))
                        else:
                            await send(item.ws_frame)
                self.last_send = asyncio.get_running_loop().time()
            if stream.done and self._streams.get(job_id) is stream:
                del self._streams[job_id]  # the job ended: nothing more will come
                stream.close()
        except SubscriberEvicted:
            await self.close(TOO_SLOW, _TOO_SLOW)
        except Disconnected:
            pass  # the client left: the reader sees it too and ends the session
        except Exception:
            log.exception("streaming optimization %s failed", job_id)
            if self._streams.get(job_id) is stream:
                del self._streams[job_id]
                stream.close()
            with contextlib.suppress(Disconnected):
                await self._put(p.error("internal", "streaming failed; resubscribe", job_id))
        finally:
            if self._tasks.get(job_id) is asyncio.current_task():
                del self._tasks[job_id]

    # -- writing ----------------------------------------------------------------------

    async def _put(self, frame: str) -> None:
        """Send one frame. ASGI servers send a message whole, so concurrent senders (drains,
        the reader, a heartbeat) need no lock; a subscription has one task at a time, so its
        frames stay in order."""
        await self._ws.send_text(frame)
        self.last_send = asyncio.get_running_loop().time()

    async def heartbeat(self) -> None:
        try:
            await self._put(p.HEARTBEAT)
        except Disconnected:
            pass
        finally:
            self.heartbeat_pending = False

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code``. Drains may be stuck sending to a slow client: stop them first,
        send the close frame (after what the client has not yet read), then stop the reader
        (``run`` cleans up)."""
        if self._closing:
            return
        self._closing = True
        current = asyncio.current_task()
        for task in self._tasks.values():
            if task is not current:
                task.cancel()
        await self._ws.close(code, reason)
        if self._reader is not None and self._reader is not current:
            self._reader.cancel()
