"""One WebSocket connection: authentication, a reader, a heartbeat, and one pump task per
subscribed job. Pumps and the reader send directly, one frame at a time under a lock,
so a delivery wakes one task.

Backpressure is the slow-consumer test: a send to a stalled client waits, which
stalls only that socket's pumps; their bounded bus subscriptions then overflow,
the bus tells the session at once, and the socket is closed with 4408 so the
client resubscribes from its last id. The job and every other client carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from whetstone.bus.base import SubscriberEvicted
from whetstone.domain.codec import event_frame
from whetstone.domain.job import ApiKey
from whetstone.errors import NotFound
from whetstone.server.services import Services
from whetstone.server.streaming import JobStream, Stored, stored_pages
from whetstone.server.ws import protocol as p

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401
TOO_SLOW = 4408
TOO_BIG = 1009
_TOO_SLOW = "too slow: resubscribe with afterEventId = your last id"


def _header_token(ws: WebSocket) -> str | None:
    auth = ws.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return ws.headers.get("x-api-key") or None


class SocketSession:
    def __init__(self, ws: WebSocket, svc: Services) -> None:
        self._ws = ws
        self._svc = svc
        self._settings = svc.settings
        self._send_lock = asyncio.Lock()
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._key: ApiKey | None = None
        self._done = asyncio.Event()
        self._last_send = 0.0  # loop time of the last frame sent: the heartbeat's clock
        self._closing = False
        self._closer: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        await self._ws.accept()
        self._key = await self._authenticate()
        if self._key is None:
            return
        await self._put(p.AUTHENTICATED)
        self._tasks = [
            asyncio.create_task(self._reader(), name="ws-reader"),
            asyncio.create_task(self._heartbeat(), name="ws-heartbeat"),
        ]
        try:
            await self._done.wait()
        finally:
            for task in [*self._tasks, *self._pumps.values()]:
                task.cancel()
            for task in [*self._tasks, *self._pumps.values()]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # -- authentication ---------------------------------------------------------------

    async def _authenticate(self) -> ApiKey | None:
        token = _header_token(self._ws)
        if token is None:
            token = await self._first_message_token()
            if token is None:
                return None
        key = await self._svc.store.keys.authenticate(token)
        if key is None:
            await self._refuse("invalid API key")
        return key

    async def _first_message_token(self) -> str | None:
        try:
            async with asyncio.timeout(self._settings.ws_auth_timeout_seconds):
                text = await self._ws.receive_text()
        except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
            await self._refuse('authenticate first: send {"type": "auth", "token": "<key>"}')
            return None
        try:
            command = p.parse(text)
        except p.ProtocolError:
            command = None
        if not isinstance(command, p.Auth):
            await self._refuse('the first message must be {"type": "auth", "token": "<key>"}')
            return None
        return command.token

    async def _refuse(self, message: str) -> None:
        with contextlib.suppress(Exception):
            await self._ws.send_text(p.error("unauthorized", message))
            await self._ws.close(UNAUTHORIZED, "unauthorized")

    # -- reading ----------------------------------------------------------------------

    async def _reader(self) -> None:
        try:
            while True:
                message = await self._ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    await self._put(
                        p.error(
                            "invalid_message", "binary frames are not supported; send JSON text"
                        )
                    )
                    continue
                if len(text.encode()) > self._settings.ws_max_frame_bytes:
                    await self.close(TOO_BIG, "frame too big")
                    return
                try:
                    await self._handle(p.parse(text))
                except p.ProtocolError as exc:
                    await self._put(p.error(exc.code, exc.message, exc.job_id))
        except WebSocketDisconnect:
            pass
        finally:
            self._done.set()

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
            await self._stop_pump(command.job_id)
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
        await self._stop_pump(command.job_id)  # a resubscribe replaces the subscription
        if len(self._pumps) >= self._settings.ws_max_subscriptions:
            limit = self._settings.ws_max_subscriptions
            raise p.ProtocolError(
                "too_many_subscriptions", f"at most {limit} jobs per connection", command.job_id
            )
        task = asyncio.create_task(self._pump(command.job_id, command.after))
        self._pumps[command.job_id] = task

    async def _stop_pump(self, job_id: str) -> None:
        task = self._pumps.pop(job_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _replay(self, command: p.Replay) -> None:
        async for page in stored_pages(self._svc.store, command.job_id, command.after):
            await self._put(p.replay(command.job_id, page))

    # -- one subscription -------------------------------------------------------------

    async def _pump(self, job_id: str, after: int | None) -> None:
        def evicted() -> None:  # called by the bus while we may be stuck sending
            if self._closer is None:
                self._closer = asyncio.get_running_loop().create_task(
                    self.close(TOO_SLOW, _TOO_SLOW)
                )

        try:
            stream = JobStream(self._svc.store, self._svc.bus, job_id, after, evicted)
            async with stream:
                await self._put(p.subscribed(job_id, stream.head))
                async for page in stream.replay():
                    await self._put(p.replay(job_id, page))
                async for item in stream.live():
                    if isinstance(item, Stored):
                        for body in item.page.bodies:
                            await self._put(event_frame(job_id, body))
                    else:
                        await self._put(item.ws_frame)
        except SubscriberEvicted:
            await self.close(TOO_SLOW, _TOO_SLOW)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("streaming optimization %s failed", job_id)
            await self._put(p.error("internal", "streaming failed; resubscribe", job_id))
        finally:
            if self._pumps.get(job_id) is asyncio.current_task():
                del self._pumps[job_id]

    # -- writing ----------------------------------------------------------------------

    async def _put(self, frame: str) -> None:
        async with self._send_lock:
            await self._ws.send_text(frame)
            self._last_send = asyncio.get_running_loop().time()

    async def _heartbeat(self) -> None:
        """One timer per interval, not per frame: sleep until the socket has been idle for
        an interval, then send a heartbeat."""
        loop = asyncio.get_running_loop()
        interval = self._settings.ws_heartbeat_seconds
        while True:
            idle_for = loop.time() - self._last_send
            if idle_for >= interval:
                await self._put(p.HEARTBEAT)
                continue
            await asyncio.sleep(interval - idle_for)

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code``. Pumps may be stuck sending to a slow client: stop them first
        (``run`` then cancels whatever is left)."""
        if self._closing:
            return
        self._closing = True
        current = asyncio.current_task()
        for task in [*self._pumps.values(), *self._tasks]:
            if task is not current and task.get_name() != "ws-reader":
                task.cancel()
        if self._ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self._ws.close(code, reason)
        self._done.set()
