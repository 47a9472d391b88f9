"""``optimization.stream()``: an async iterator over a subscription (the blocking one is in
``test_sync.py``), against the scripted WebSocket server."""

from __future__ import annotations

import asyncio

import pytest

from tests.sdk.fakes import JOB, Conn, fake_ws, sdk, wire_event
from tests.sdk.support import TIMEOUT
from whetstone.errors import Unauthorized
from whetstone.sdk import JobFailed


async def test_stream_ends_after_the_terminal_event() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.replay(1, 2)
        await conn.events(2, 3, 4, last="job_complete")
        await conn.events(5)  # nothing after the terminal event is read
        await conn.idle()

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        stream = client.optimization.stream(JOB, after_event_id=0)
        assert stream.last_event_id is None  # starts on first use
        got = [e.id async for e in stream]
        assert [e.id async for e in stream] == []  # and stays ended
    assert got == [1, 2, 3, 4]
    assert stream.last_event_id == 4


async def test_a_failed_job_ends_its_stream_normally() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        failed = wire_event(2, "job_failed", error={"code": "internal", "message": "boom"})
        await conn.events(1)
        await conn.send({"type": "event", "jobId": JOB, "event": failed})
        await conn.idle()

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        got = [e async for e in client.optimization.stream(JOB, after_event_id=0)]
    assert [e.id for e in got] == [1, 2]
    assert isinstance(got[-1], JobFailed)
    assert got[-1].error["message"] == "boom"


async def test_a_fatal_error_is_raised_by_the_iterator() -> None:
    async def script(conn: Conn) -> None:
        await conn.ws.close(4401, "unauthorized")

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        with pytest.raises(Unauthorized):
            async for _ in client.optimization.stream(JOB, after_event_id=0):
                pass


async def test_leaving_the_loop_early_closes_the_subscription() -> None:
    left = asyncio.Event()

    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 3)
        await conn.idle()  # returns once the client has closed the socket
        left.set()

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        async with client.optimization.stream(JOB, after_event_id=0) as stream:
            async for event in stream:
                if event.id == 2:
                    break
        await asyncio.wait_for(left.wait(), TIMEOUT)
    assert stream.last_event_id == 2
