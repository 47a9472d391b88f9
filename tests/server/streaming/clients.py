"""Clients for the streaming tests, over real sockets: ``WsClient`` on ``websockets`` and an
SSE reader on httpx. Loopback only, no proxies from the environment; every wait bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.server.streaming.support import EVENT_FIELDS, TERMINAL, TIMEOUT, Frame
from tests.support.live import LiveServer

# -- WebSocket ------------------------------------------------------------------------------


@dataclass
class WsClient:
    """A ``websockets`` connection speaking JSON frames, with every receive bounded.

    ``expect`` waits for one kind of frame; ``event`` and ``replay`` frames that arrive
    meanwhile are kept, in order, for the next ``recv``/``events``."""

    conn: ClientConnection
    seen: list[Frame] = field(default_factory=list)  # every frame received, in order
    deferred: list[Frame] = field(default_factory=list)

    async def send(self, frame: Mapping[str, Any] | str | bytes) -> None:
        if isinstance(frame, Mapping):
            frame = orjson.dumps(dict(frame)).decode()
        await self.conn.send(frame)

    async def recv(self, within: float = TIMEOUT) -> Frame:
        if self.deferred:
            return self.deferred.pop(0)
        return await self._read(within)

    async def expect(self, kind: str, within: float = TIMEOUT, **fields: Any) -> Frame:
        """The next frame of type ``kind`` (with ``fields``); heartbeats are skipped, events
        kept for later, anything else is a failure."""
        kept: list[Frame] = []
        try:
            while True:
                frame = await self._read(within)
                if frame["type"] == kind and fields.items() <= frame.items():
                    return frame
                if frame["type"] in ("event", "replay"):
                    kept.append(frame)
                else:
                    assert frame["type"] == "heartbeat", f"expected {kind!r}, got {frame}"
        finally:
            self.deferred.extend(kept)  # after those kept earlier: arrival order

    async def _read(self, within: float) -> Frame:
        async with asyncio.timeout(within):
            raw = await self.conn.recv()
        frame: Frame = orjson.loads(raw)
        self.seen.append(frame)
        return frame

    async def ping(self) -> None:
        """A round trip proving the socket is open and still answering."""
        await self.send({"type": "ping"})
        await self.expect("pong")

    async def subscribe(self, job_id: str, after: int | None = None) -> Frame:
        frame: Frame = {"type": "subscribe", "jobId": job_id}
        if after is not None:
            frame["afterEventId"] = after
        await self.send(frame)
        return await self.expect("subscribed", jobId=job_id)

    async def events(
        self,
        job_id: str,
        until: int | None = None,
        within: float = TIMEOUT,
        *,
        stop: Callable[[Frame], bool] | None = None,
    ) -> list[Frame]:
        """Events of ``job_id`` from ``replay`` and ``event`` frames, in the order received,
        until a frame brings one with id ``until``, one ``stop`` accepts, or a terminal one;
        other jobs' events are skipped (they stay in ``seen``)."""
        out: list[Frame] = []
        while True:
            frame = await self.recv(within)
            if frame.get("jobId") != job_id:
                continue
            if frame["type"] == "replay":
                batch = frame["data"]
            elif frame["type"] == "event":
                batch = [frame["event"]]
            else:
                raise AssertionError(f"unexpected frame {frame}")
            out.extend(batch)
            for event in batch:
                if event["id"] == until or event["eventType"] in TERMINAL:
                    return out
                if stop is not None and stop(event):
                    return out

    async def until_all_end(self, job_ids: set[str]) -> dict[str, list[Frame]]:
        """Each job's events, as received, until every one of them has sent its terminal
        event; every event must be of the job its frame names."""
        got: dict[str, list[Frame]] = {j: [] for j in job_ids}
        running = set(job_ids)
        while running:
            frame = await self.recv()
            if frame["type"] == "heartbeat":
                continue
            assert frame["type"] in ("event", "replay"), frame
            batch = frame["data"] if frame["type"] == "replay" else [frame["event"]]
            for event in batch:
                assert event["jobId"] == frame["jobId"], frame
                got[frame["jobId"]].append(event)
                if event["eventType"] in TERMINAL:
                    running.discard(frame["jobId"])
        return got

    async def closed(self, within: float = TIMEOUT) -> int | None:
        """Read until the server closes; the close code it sent."""
        try:
            async with asyncio.timeout(within):
                async for raw in self.conn:
                    self.seen.append(orjson.loads(raw))
        except ConnectionClosed:
            pass
        return self.conn.close_code


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def sockets(server: LiveServer, key: str, count: int) -> AsyncIterator[list[WsClient]]:
    """``count`` authenticated sockets, open together."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(ws(server, key)) for _ in range(count)]


@asynccontextmanager
async def ws(
    server: LiveServer,
    key: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[WsClient]:
    """A socket to ``server``; with ``key`` it authenticates by header and checks the answer."""
    all_headers = {**(bearer(key) if key else {}), **(headers or {})}
    async with connect(
        server.ws,
        additional_headers=all_headers,
        proxy=None,
        open_timeout=TIMEOUT,
        close_timeout=2,
        **kwargs,
    ) as conn:
        client = WsClient(conn)
        if key is not None:
            await client.expect("authenticated")
        yield client


# -- SSE ------------------------------------------------------------------------------------


@dataclass
class SseBlock:
    """One blank-line-terminated block of an event stream."""

    id: int | None = None
    event: str | None = None
    data: Frame | None = None
    comments: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


async def sse_blocks(response: httpx.Response) -> AsyncIterator[SseBlock]:
    block = SseBlock()
    async for line in response.aiter_lines():
        if line == "":
            yield block
            block = SseBlock()
        elif line.startswith(":"):
            block.comments.append(line[1:].strip())
        elif line.startswith("id: "):
            block.id = int(line[4:])
        elif line.startswith("event: "):
            block.event = line[7:]
        elif line.startswith("data: "):
            block.data = orjson.loads(line[6:])
        else:
            block.other.append(line)


def http_client(server: LiveServer, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.http, headers=headers, trust_env=False, timeout=TIMEOUT
    )


@asynccontextmanager
async def sse(
    server: LiveServer, job_id: str, headers: Mapping[str, str], query: str = ""
) -> AsyncIterator[AsyncIterator[SseBlock]]:
    """An open event stream, past its first block (sent once the stream is registered on the
    bus, so whatever is published from then on reaches it)."""
    async with (
        http_client(server) as client,
        client.stream("GET", f"/api/optimizations/{job_id}/stream{query}", headers=headers) as r,
    ):
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        blocks = sse_blocks(r)
        async with asyncio.timeout(TIMEOUT):
            opening = await anext(blocks)
        assert opening.id is None
        assert opening.data is None
        assert opening.other == ["retry: 2000"]
        yield blocks


async def sse_events(
    blocks: AsyncIterator[SseBlock], job_id: str, within: float = TIMEOUT
) -> list[Frame]:
    """The events of the stream until it ends; checks each block's ``id:`` and ``event:``."""
    got: list[Frame] = []
    async with asyncio.timeout(within):
        async for block in blocks:
            if block.data is None:
                assert block.id is None
                assert block.event is None
                continue  # a comment
            assert block.data.keys() >= EVENT_FIELDS, block
            assert block.data["jobId"] == job_id
            assert block.id == block.data["id"]
            assert block.event == block.data["eventType"]
            got.append(block.data)
    return got
