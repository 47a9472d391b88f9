"""A WebSocket on the raw ASGI messages, for ``/ws/optimization`` (see ``session.py``).

A subscribed socket lives for hours and every live event goes through it, so it takes
the shortest path: the ASGI messages themselves, with no router, dependency resolution,
exception wrapper or per-connection exit stack between the server and the session.
(That costs about 10 KiB per connection and several awaits per frame; the benchmark in
``bench/streaming.py`` measures both.) Every other request passes through untouched.
"""

from __future__ import annotations

import contextlib

from starlette.types import Message, Receive, Scope, Send


class Disconnected(Exception):
    """The client went away."""


class AsgiWebSocket:
    """The few operations a session needs, on the raw ASGI messages."""

    __slots__ = ("_receive", "_send", "accepted", "closed", "scope")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False  # a close was sent or the client left

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.scope["headers"]:
            if key.lower() == wanted:
                return bytes(value).decode("latin-1")
        return None

    async def accept(self) -> bool:
        """Wait for the client's ``websocket.connect`` and accept; False if it left first."""
        message = await self._receive()
        if message["type"] != "websocket.connect":
            self.closed = True
            return False
        await self._send({"type": "websocket.accept"})
        self.accepted = True
        return True

    async def receive(self) -> str | bytes:
        """The next message's text or bytes; raises :class:`Disconnected` when the client
        has gone."""
        message: Message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise Disconnected
        text = message.get("text")
        if text is not None:
            return str(text)
        return bytes(message.get("bytes") or b"")

    async def send_text(self, text: str) -> None:
        if self.closed:
            raise Disconnected
        try:
            await self._send({"type": "websocket.send", "text": text})
        except OSError as exc:  # uvicorn's ClientDisconnected is an OSError
            self.closed = True
            raise Disconnected from exc

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
