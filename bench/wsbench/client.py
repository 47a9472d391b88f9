"""The load generator's minimal WebSocket client and its bookkeeping."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import orjson

from wsbench.common import CONNECT_AT_ONCE, HOST, WS_PATH, _resolve

if TYPE_CHECKING:
    from wsbench.servers import ServerProcess

# -- the load generator's client ---------------------------------------------------------


class Wire(asyncio.Protocol):
    """Just enough RFC 6455 for a load generator: one handshake without extensions, server
    frames parsed straight from the buffer, masked client frames."""

    def __init__(self, port: int, key: str, on_message: Callable[[bytes, float], None]) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None
        self._on_message = on_message
        self._request = (
            f"GET {WS_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        ).encode()
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        self._upgraded = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        _resolve(self.lost)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self._buf[:end]).split(b"\r\n", 1)[0]
            if status.split(b" ")[1:2] != [b"101"]:
                self.opened.set_exception(ConnectionError(f"handshake refused: {status!r}"))
                self.close()
                return
            del self._buf[: end + 4]
            self._upgraded = True
            _resolve(self.opened)
        self._parse(now)

    def _parse(self, now: float) -> None:
        buf, pos, size = self._buf, 0, len(self._buf)
        while size - pos >= 2:
            first, length, head = buf[pos], buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(first, payload, now)
        if pos:
            del buf[:pos]

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode in (0x0, 0x1, 0x2):
            if not first & 0x80:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self._on_message(payload, now)
        elif opcode == 0x9:
            self._send(0xA, payload)
        elif opcode == 0x8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close()

    def send_text(self, text: str) -> None:
        self._send(0x1, text.encode())

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
            self._transport.close()

    def _send(self, opcode: int, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        n = len(data)
        if n < 126:
            header = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
        self._transport.write(header + mask + masked)


class Subscriber:
    """One client subscribed to one job. It counts what it receives and checks that the ids
    are contiguous and each seen once; ``done`` resolves at the last expected id or when
    the connection is lost."""

    def __init__(
        self, port: int, key: str, job_id: str, *, after: int | None, count: int, latency: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        self.wire = Wire(port, key, self._on_message)
        self.subscribed: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.wire.lost.add_done_callback(lambda _: _resolve(self.done))
        self.job_id, self.after, self.count = job_id, after, count
        self.next_id = self.until = 0
        self.received = self.gaps = self.duplicates = self.frame_bytes = 0
        self.errors: list[str] = []
        self.sent_at = self.last_received = 0.0
        self.first_published: float | None = None
        self.latencies: list[float] | None = [] if latency else None

    def subscribe(self) -> None:
        command: dict[str, Any] = {"type": "subscribe", "jobId": self.job_id}
        if self.after is not None:
            command["afterEventId"] = self.after
        self.sent_at = time.time()
        self.wire.send_text(json.dumps(command))

    def _on_message(self, payload: bytes, now: float) -> None:
        message = orjson.loads(payload)
        kind = message.get("type")
        if kind == "event":
            self.frame_bytes = self.frame_bytes or len(payload)
            self._event(message["event"], now)
        elif kind == "replay":
            for event in message["data"]:
                self._event(event, now)
        elif kind == "subscribed":
            head = message["headEventId"]
            self.next_id = (head if self.after is None else self.after) + 1
            self.until = head + self.count if self.after is None else head
            _resolve(self.subscribed)
            if self.next_id > self.until:
                _resolve(self.done)
        elif kind == "error":
            self.errors.append(str(message.get("code")))

    def _event(self, event: dict[str, Any], now: float) -> None:
        event_id = event["id"]
        if event_id < self.next_id:
            self.duplicates += 1
            return
        self.gaps += event_id - self.next_id
        self.next_id = event_id + 1
        self.received += 1
        self.last_received = now
        if self.first_published is None or self.latencies is not None:
            published = datetime.fromisoformat(event["timestamp"]).timestamp()
            self.first_published = self.first_published or published
            if self.latencies is not None:
                self.latencies.append(now - published)
        if event_id >= self.until:
            _resolve(self.done)

    @property
    def missing(self) -> int:
        """Ids skipped plus the expected ids that never came."""
        return self.gaps + max(0, self.until - self.next_id + 1)


async def open_subscribers(
    server: ServerProcess,
    job_id: str,
    n: int,
    *,
    after: int | None = None,
    count: int = 0,
    latency: bool = False,
) -> list[Subscriber]:
    """``n`` clients, each authenticated (header) and subscribed to ``job_id``."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    subs = [
        Subscriber(server.port, server.key, job_id, after=after, count=count, latency=latency)
        for _ in range(n)
    ]

    async def connect(sub: Subscriber) -> None:
        async with gate:
            await loop.create_connection(lambda: sub.wire, HOST, server.port)
            await sub.wire.opened
            sub.subscribe()
            await sub.subscribed

    try:
        async with asyncio.timeout(30 + n / 20):
            await asyncio.gather(*(connect(sub) for sub in subs))
    except BaseException:
        await close_all(subs)
        raise
    return subs


async def wait_done(subs: Sequence[Subscriber], seconds: float) -> None:
    await asyncio.wait([sub.done for sub in subs], timeout=seconds)


async def close_all(subs: Sequence[Subscriber]) -> None:
    for sub in subs:
        sub.wire.close()
    if subs:
        await asyncio.wait([sub.wire.lost for sub in subs], timeout=10)


def tally(subs: Sequence[Subscriber], expected: int) -> dict[str, Any]:
    return {
        "deliveries": sum(s.received for s in subs),
        "expected": expected,
        "gaps": sum(s.missing for s in subs),
        "duplicates": sum(s.duplicates for s in subs),
        "errors": sorted({e for s in subs for e in s.errors}),
        "closedByServer": sum(1 for s in subs if s.wire.close_code is not None),
    }
