"""Pause, resume and cancel through REST show up on streams that are already open, in order:
``job_paused``, ``job_resumed``, ``job_cancelled`` (WebSocket and SSE alike)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.server.helpers import make_paused
from tests.server.streaming.clients import SseBlock, WsClient, http_client, sse, sse_events, ws
from tests.server.streaming.support import TERMINAL, Frame, assert_contiguous, sim_job, stored
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.server.services import Services

PROMPT = 2.0  # seconds an open stream may take to show a user's action


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


async def post(server: LiveServer, auth: dict[str, str], path: str, **body: Any) -> Any:
    async with http_client(server, auth) as client:
        response = await client.post(path, json=body or None)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def of_type(kind: str) -> Callable[[Frame], bool]:
    return lambda event: bool(event["eventType"] == kind)


async def test_pause_resume_cancel_appear_in_order(
    running_server: LiveServer, key: str, auth: dict[str, str], api: Api
) -> None:
    job_id = await sim_job(api, 20, maxIterations=20)
    path = f"/api/optimizations/{job_id}"
    async with (
        ws(running_server, key) as client,
        sse(running_server, job_id, auth, "?afterEventId=0") as blocks,
    ):
        await client.subscribe(job_id, after=0)
        got = await client.events(job_id, stop=of_type("iteration_complete"))
        await post(running_server, auth, f"{path}/pause", reason="lunch")
        got += await client.events(job_id, stop=of_type("job_paused"))
        assert (await api.call("GET", path))["data"]["status"] == "paused"
        await post(running_server, auth, f"{path}/resume")
        got += await client.events(job_id, stop=of_type("job_resumed"))
        got += await client.events(job_id, stop=of_type("iteration_complete"))
        await post(running_server, auth, f"{path}/cancel", reason="enough")
        got += await client.events(job_id)
        streamed = await sse_events(blocks, job_id)
    assert_contiguous(got, 1, len(got), job_id)
    types = [e["eventType"] for e in got]
    paused, resumed = types.index("job_paused"), types.index("job_resumed")
    assert resumed == paused + 1  # a paused job emits nothing
    assert paused < resumed < types.index("job_cancelled") == len(types) - 1
    assert [t for t in types if t in {"job_paused", "job_resumed", *TERMINAL}] == [
        "job_paused",
        "job_resumed",
        "job_cancelled",
    ]
    assert got[paused]["data"]["reason"] == "lunch"
    assert got[-1]["data"]["reason"] == "enough"
    assert streamed == got == await api.events(job_id)
    assert (await api.call("GET", path))["data"]["status"] == "cancelled"


async def first_events(
    client: WsClient, blocks: AsyncIterator[SseBlock], job_id: str
) -> tuple[str | None, str | None]:
    """The type of the next event on the WebSocket and on the SSE stream, each within
    ``PROMPT`` seconds (``None`` if nothing came)."""
    on_ws: str | None = None
    on_sse: str | None = None
    with contextlib.suppress(TimeoutError):
        on_ws = (await client.events(job_id, within=PROMPT, stop=lambda _: True))[0]["eventType"]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(PROMPT):
            async for block in blocks:
                if block.data is not None:
                    on_sse = block.data["eventType"]
                    break
    return on_ws, on_sse


async def test_resume_appears_on_open_streams(
    server: LiveServer, key: str, auth: dict[str, str], job_id: str, services: Services
) -> None:
    """Runner off: nobody else will publish; the API's own event must reach the streams."""
    await make_paused(services, job_id)
    async with ws(server, key) as client, sse(server, job_id, auth) as blocks:
        await client.subscribe(job_id)
        await post(server, auth, f"/api/optimizations/{job_id}/resume")
        assert await first_events(client, blocks, job_id) == ("job_resumed", "job_resumed")
    assert [e["eventType"] for e in await stored(services, job_id)] == ["job_resumed"]


@pytest.mark.parametrize("paused", [False, True], ids=["queued", "paused"])
async def test_cancel_appears_on_open_streams_and_ends_them(
    server: LiveServer,
    key: str,
    auth: dict[str, str],
    job_id: str,
    services: Services,
    paused: bool,
) -> None:
    if paused:
        await make_paused(services, job_id)
    async with ws(server, key) as client, sse(server, job_id, auth) as blocks:
        await client.subscribe(job_id)
        await post(server, auth, f"/api/optimizations/{job_id}/cancel", reason="no")
        assert await first_events(client, blocks, job_id) == ("job_cancelled", "job_cancelled")
        async with asyncio.timeout(PROMPT):
            assert await anext(blocks, None) is None  # the SSE response ended
        await client.ping()  # the socket stays open for other jobs
    assert [e["eventType"] for e in await stored(services, job_id)] == ["job_cancelled"]
