"""Links: one connection that carries one job's events, resumed after an id.

A link is an async context manager. Entering it connects, authenticates and subscribes
(for the WebSocket: up to the server's ``subscribed``); it gives an async iterator of
batches of wire events, each batch in id order. An empty batch is a heartbeat: proof the
link is alive. What can go wrong is raised as:

- :class:`Resubscribe`: the server asked the client to come back at once (close 4408);
- a :class:`~whetstone.errors.WhetstoneError` that retrying cannot fix (``Unauthorized``,
  ``NotFound``, ``InvalidRequest``);
- :class:`~whetstone.sdk.errors.WhetstoneConnectionError` or ``InternalError`` for a link
  that broke or failed to open: try again later.

The subscription (``subscription.py``) decides what to do with each; the links only speak
their protocol. Two are built in: the WebSocket ``/ws/optimization`` (the default) and SSE.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from whetstone.errors import (
    InternalError,
    InvalidRequest,
    NotFound,
    Unauthorized,
    WhetstoneError,
)
from whetstone.sdk.errors import WhetstoneConnectionError
from whetstone.sdk.http import USER_AGENT, Http, error_from_response, seg

Wire = dict[str, Any]
Batches = AsyncGenerator[list[Wire], None]
Link = Callable[[str, int], AbstractAsyncContextManager[Batches]]
LinkKind = Literal["websocket", "sse"]

WS_PATH = "/ws/optimization"
UNAUTHORIZED_CLOSE = 4401
TOO_SLOW_CLOSE = 4408
# Error codes of ``error`` frames that name a mistake retrying cannot fix.
_WS_FATAL: dict[str, type[WhetstoneError]] = {"unauthorized": Unauthorized, "not_found": NotFound}


class Resubscribe(Exception):
    """The server closed the link for being too slow (4408): resubscribe at once."""


def ws_url(base_url: str) -> str:
    """``http(s)://host[/prefix]`` to ``ws(s)://host[/prefix]/ws/optimization``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + WS_PATH, "", ""))


def _frame_error(frame: Mapping[str, Any]) -> WhetstoneError:
    code = str(frame.get("code", "internal"))
    message = str(frame.get("error", ""))
    if code in _WS_FATAL:
        return _WS_FATAL[code](message, details={"jobId": frame.get("jobId")})
    if code == "internal":
        return InternalError(message)
    return InvalidRequest(f"the server refused a frame ({code}): {message}")


class WebSocketLink:
    """``/ws/optimization``, authenticated by header, one subscription per socket."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, trust_env: bool) -> None:
        self.url = ws_url(base_url)
        self._headers = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
        self._proxy: Literal[True] | None = True if trust_env else None

    @asynccontextmanager
    async def __call__(self, job_id: str, after: int) -> AsyncIterator[Batches]:
        if not any(k.lower() in ("authorization", "x-api-key") for k in self._headers):
            raise Unauthorized(
                "no API key: pass api_key= or set WHETSTONE_API_KEY "
                "(create one with `whetstone keys create`)"
            )
        conn = await self._connect()
        try:
            await self._expect(conn, "authenticated")
            subscribe = {"type": "subscribe", "jobId": job_id, "afterEventId": after}
            try:
                await conn.send(orjson.dumps(subscribe).decode())
            except WebSocketException as exc:
                raise self._lost(conn) from exc
            await self._expect(conn, "subscribed")
            yield self._batches(conn, job_id)
        finally:
            await conn.close()

    async def _connect(self) -> ClientConnection:
        try:
            return await connect(
                self.url,
                additional_headers=self._headers,
                proxy=self._proxy,
                user_agent_header=USER_AGENT,
                open_timeout=None,  # the subscription bounds the whole opening
                close_timeout=2,
                max_size=None,  # a replay batch holds up to 500 events, prompts included
            )
        except InvalidURI as exc:
            raise InvalidRequest(f"not a usable server URL: {self.url} ({exc})") from exc
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise Unauthorized(f"the server refused the WebSocket ({status})") from exc
            if status == 404:
                raise NotFound(f"no Whetstone WebSocket at {self.url} (404)") from exc
            raise WhetstoneConnectionError.unreachable(self.url, exc) from exc
        except (OSError, WebSocketException, EOFError) as exc:
            raise WhetstoneConnectionError.unreachable(self.url, exc) from exc

    async def _frames(self, conn: ClientConnection) -> AsyncGenerator[Wire, None]:
        """The server's frames, decoded, until the socket closes (then the reason is raised)."""
        try:
            async for raw in conn:
                try:
                    yield orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise InternalError(f"the server sent a frame that is not JSON: {exc}") from exc
        except WebSocketException as exc:
            raise self._lost(conn) from exc
        raise self._lost(conn)

    async def _expect(self, conn: ClientConnection, kind: str) -> None:
        """Read up to the frame ``kind``, skipping heartbeats and anything unknown."""
        async for frame in self._frames(conn):
            if frame.get("type") == kind:
                return
            if frame.get("type") == "error":
                raise _frame_error(frame)

    async def _batches(self, conn: ClientConnection, job_id: str) -> Batches:
        async for frame in self._frames(conn):
            kind = frame.get("type")
            if kind == "event" and frame.get("jobId") == job_id:
                yield [frame["event"]]
            elif kind == "replay" and frame.get("jobId") == job_id:
                yield list(frame.get("data") or ())
            elif kind == "error":
                raise _frame_error(frame)
            else:
                yield []  # heartbeat, pong, or a frame type newer than this SDK

    def _lost(self, conn: ClientConnection) -> Exception:
        code, reason = conn.close_code, conn.close_reason or ""
        if code == UNAUTHORIZED_CLOSE:
            return Unauthorized(f"the server closed the WebSocket: {reason or 'unauthorized'}")
        if code == TOO_SLOW_CLOSE:
            return Resubscribe(reason)
        return WhetstoneConnectionError(
            f"the WebSocket to {self.url} closed (code {code}{', ' + reason if reason else ''})",
            url=self.url,
        )


class SseLink:
    """``GET /api/optimizations/{id}/stream`` (server-sent events) over the REST client."""

    def __init__(self, http: Http, connect_timeout: float) -> None:
        self._http = http
        # No read timeout: the subscription watches for silence itself.
        self._timeout = httpx.Timeout(connect_timeout, read=None)

    @asynccontextmanager
    async def __call__(self, job_id: str, after: int) -> AsyncIterator[Batches]:
        client = self._http.client
        request = client.build_request(
            "GET",
            f"/api/optimizations/{seg(job_id)}/stream",
            params={"afterEventId": after},
            headers={"Accept": "text/event-stream"},
            timeout=self._timeout,
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise WhetstoneConnectionError.unreachable(self._http.base_url, exc) from exc
        try:
            if response.is_error:
                await response.aread()
                raise error_from_response(response)
            yield self._batches(response)
        finally:
            await response.aclose()

    async def _batches(self, response: httpx.Response) -> Batches:
        data: list[str] = []
        try:
            async for line in response.aiter_lines():
                if line:
                    if line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    continue
                yield [orjson.loads("\n".join(data))] if data else []  # else a comment: alive
                data = []
        except httpx.TransportError as exc:
            raise WhetstoneConnectionError.unreachable(self._http.base_url, exc) from exc
        raise WhetstoneConnectionError(
            f"the event stream from {self._http.base_url} ended", url=self._http.base_url
        )
