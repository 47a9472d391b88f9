"""Scripted stand-ins for the server's two edges, for the subscription's unit tests: a real
WebSocket server on loopback that plays a script per connection, and the REST calls a
subscription makes (job, event log, results) as an ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.server import ServerConnection, serve

from whetstone.sdk import AsyncWhetstone, ReconnectPolicy, Timing

JOB = "job_fake"
TIMEOUT = 10.0
Wire = dict[str, Any]

TYPES = ["job_started", "iteration_start", "evaluation_complete", "iteration_complete"]


def wire_event(event_id: int, event_type: str | None = None, **data: Any) -> Wire:
    """An event as the server sends it; ``job_complete`` carries full Results."""
    kind = event_type or TYPES[(event_id - 1) % len(TYPES)]
    if kind == "job_complete":
        data.setdefault("results", results_wire())
    return {
        "id": event_id,
        "jobId": JOB,
        "eventType": kind,
        "iteration": event_id // 4,
        "stage": "finished" if kind.startswith("job_") and kind != "job_started" else "mutation",
        "timestamp": "2026-01-01T00:00:00.000000Z",
        "data": data,
    }


def results_wire(status: str = "completed") -> Wire:
    return {
        "jobId": JOB,
        "status": status,
        "initialScore": 0.25,
        "finalScore": 0.75,
        "improvement": 0.5,
        "relativeImprovement": 2.0,
        "bestPrompt": {"template": "Answer: {question}"},
        "resultPromptId": "prm_1",
        "iterations": 3,
        "stopReason": "cancelled" if status == "cancelled" else "max_iterations",
        "history": [{"iteration": 1, "bestScore": 0.75, "scores": [0.5, 0.75]}],
        "usage": {"llmCalls": 4, "inputTokens": 10, "outputTokens": 5, "costUsd": 0.0},
    }


@dataclass
class Conn:
    """One accepted socket, with the subscription's side of the protocol scripted."""

    ws: ServerConnection
    number: int  # 1 for the first connection
    server: FakeWs

    async def handshake(self, head: int = 0) -> Wire:
        """``authenticated``, then the client's ``subscribe`` (returned), then ``subscribed``."""
        await self.send({"type": "authenticated"})
        async with asyncio.timeout(TIMEOUT):
            frame: Wire = orjson.loads(await self.ws.recv())
        assert frame["type"] == "subscribe", frame
        self.server.subscribes.append(frame)
        await self.send({"type": "subscribed", "jobId": frame["jobId"], "headEventId": head})
        return frame

    async def send(self, frame: Wire) -> None:
        await self.ws.send(orjson.dumps(frame).decode())

    async def events(self, *ids: int, last: str | None = None) -> None:
        """``event`` frames for ``ids``; the last one of type ``last`` if given."""
        for i in ids:
            kind = last if last and i == ids[-1] else None
            await self.send({"type": "event", "jobId": JOB, "event": wire_event(i, kind)})

    async def replay(self, *ids: int, has_more: bool = False) -> None:
        data = [wire_event(i) for i in ids]
        await self.send({"type": "replay", "jobId": JOB, "data": data, "hasMore": has_more})

    async def idle(self) -> None:
        """Read until the client leaves (it closes when it is done or gives up on us)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(TIMEOUT):
                async for _ in self.ws:
                    pass


Script = Callable[[Conn], Awaitable[None]]


@dataclass
class FakeWs:
    """``/ws/optimization`` played by ``script``, called once per connection."""

    script: Script
    port: int = 0
    connections: int = 0
    subscribes: list[Wire] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        await self.script(Conn(ws, self.connections, self))


@contextlib.asynccontextmanager
async def fake_ws(script: Script) -> AsyncIterator[FakeWs]:
    fake = FakeWs(script)
    async with serve(fake._handle, "127.0.0.1", 0) as server:
        fake.port = int(next(iter(server.sockets)).getsockname()[1])
        yield fake


@dataclass
class FakeRest:
    """The REST calls of a subscription: the job, its event log and its results."""

    log: list[Wire] = field(default_factory=list)
    status: str = "running"
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/events"):
            after = int(request.url.params.get("afterEventId", 0))
            limit = int(request.url.params.get("limit", 500))
            page = [e for e in self.log if e["id"] > after][:limit]
            meta = {"headEventId": len(self.log), "hasMore": False}
            return httpx.Response(200, json={"data": page, "meta": meta})
        if path.endswith("/results"):
            return httpx.Response(200, json={"data": results_wire(self.status), "meta": {}})
        job = {"id": JOB, "status": self.status, "lastEventId": len(self.log)}
        return httpx.Response(200, json={"data": job, "meta": {}})

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


async def record_delay(delays: list[float], seconds: float) -> None:
    """The injected "sleep": notes the delay and returns at once."""
    delays.append(seconds)


def fast_timing(delays: list[float], seed: int = 7) -> Timing:
    return Timing(sleep=lambda s: record_delay(delays, s), rng=random.Random(seed))


def sdk(
    url: str,
    rest: FakeRest | None = None,
    *,
    delays: list[float] | None = None,
    policy: ReconnectPolicy | None = None,
    key: str | None = "wst_test",
) -> AsyncWhetstone:
    """An async client of the fake: WebSocket to ``url``, REST to ``rest``."""
    return AsyncWhetstone(
        url,
        key,
        transport=httpx.MockTransport(rest or FakeRest()),
        reconnect=policy or ReconnectPolicy(max_attempts=5),
        timing=fast_timing(delays if delays is not None else []),
        trust_env=False,
    )
