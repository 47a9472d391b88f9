"""``GET /api/optimizations/{id}/stream``: server-sent events over a real socket. Resume with
``Last-Event-ID`` or ``afterEventId``, live only without; ``id:`` and ``event:`` match the
event; the response ends after the terminal event; heartbeats when idle; 400/401/404."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.server.streaming.clients import SseBlock, http_client, sse, sse_events
from tests.server.streaming.support import TIMEOUT, Feed, ids
from tests.support.live import LiveServer
from whetstone.server.services import Services


async def read_events(blocks: AsyncIterator[SseBlock], job_id: str) -> list[int]:
    return ids(await sse_events(blocks, job_id))


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Last-Event-ID": "3"}, ""),
        ({}, "?afterEventId=3"),
        ({"Last-Event-ID": "3"}, "?afterEventId=1"),  # the header wins
    ],
    ids=["last-event-id", "after-event-id", "header-over-query"],
)
async def test_resume_then_live_then_end(
    server: LiveServer,
    auth: dict[str, str],
    job_id: str,
    services: Services,
    headers: dict[str, str],
    query: str,
) -> None:
    feed = Feed(services, job_id)
    await feed.write(6)
    async with sse(server, job_id, {**auth, **headers}, query) as blocks:
        await feed.write(2)
        done = await feed.finish()
        assert await read_events(blocks, job_id) == list(range(4, done.id + 1))


async def test_without_an_id_live_only(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(5)
    async with sse(server, job_id, auth) as blocks:
        await feed.write(3)
        await feed.finish()
        assert await read_events(blocks, job_id) == [6, 7, 8, 9]


async def test_event_names_and_data(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(1)
    await feed.write(1, size=300)
    await feed.finish()
    async with sse(server, job_id, auth, "?afterEventId=0") as blocks:
        async with asyncio.timeout(TIMEOUT):
            events = [b for b in [b async for b in blocks] if b.data is not None]
    assert [(b.id, b.event) for b in events] == [
        (1, "iteration_start"),
        (2, "mutation_generated"),
        (3, "job_complete"),
    ]
    assert events[1].data is not None
    assert len(events[1].data["data"]["preview"]) == 200
    assert events[2].data is not None
    assert events[2].data["stage"] == "finished"


async def test_ended_job_replays_and_ends(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(4)
    await feed.finish()
    async with sse(server, job_id, auth, "?afterEventId=0") as blocks:
        assert await read_events(blocks, job_id) == [1, 2, 3, 4, 5]
    async with sse(server, job_id, {**auth, "Last-Event-ID": "5"}) as blocks:
        assert await read_events(blocks, job_id) == []
    async with sse(server, job_id, auth) as blocks:  # live only: nothing will come
        assert await read_events(blocks, job_id) == []


async def test_gap_in_live_events_is_filled_in_order(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    async with sse(server, job_id, auth, "?afterEventId=0") as blocks:
        await feed.write(2, publish=False)
        await feed.write(1)
        await feed.finish()
        assert await read_events(blocks, job_id) == [1, 2, 3, 4]


@pytest.mark.parametrize("settings_overrides", [{"sse_heartbeat_seconds": 0.2}])
async def test_heartbeat_comments_when_idle(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    async with sse(server, job_id, auth) as blocks:
        async with asyncio.timeout(TIMEOUT):
            for _ in range(2):
                block = await anext(blocks, None)
                assert block is not None, "the stream ended when it should have said heartbeat"
                assert block.comments == ["heartbeat"], block
        await feed.finish()
        assert await read_events(blocks, job_id) == [1]


@pytest.mark.parametrize("settings_overrides", [{"sse_heartbeat_seconds": 0.2}])
async def test_events_after_a_heartbeat_still_arrive(
    server: LiveServer, auth: dict[str, str], job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    async with sse(server, job_id, auth) as blocks:
        async with asyncio.timeout(TIMEOUT):
            assert (await anext(blocks)).comments == ["heartbeat"]
        await feed.write(2)
        await feed.finish()
        assert await read_events(blocks, job_id) == [1, 2, 3], "the stream ended early"


async def test_x_api_key_is_accepted(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.finish()
    async with sse(server, job_id, {"x-api-key": key}, "?afterEventId=0") as blocks:
        assert await read_events(blocks, job_id) == [1]


async def expect_error(
    server: LiveServer, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    async with http_client(server) as client:
        response = await client.get(path, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert len(error["message"]) > 10, error


async def test_foreign_or_unknown_job_is_404(
    server: LiveServer, auth: dict[str, str], other_auth: dict[str, str], job_id: str
) -> None:
    path = f"/api/optimizations/{job_id}/stream"
    await expect_error(server, path, other_auth, 404, "not_found")
    await expect_error(server, path + "?afterEventId=0", other_auth, 404, "not_found")
    await expect_error(server, "/api/optimizations/job_nope/stream", auth, 404, "not_found")


async def test_bad_resume_id_is_400(server: LiveServer, auth: dict[str, str], job_id: str) -> None:
    path = f"/api/optimizations/{job_id}/stream"
    for value in ["abc", "-1", "1.5", "", "0x10", "3; 4"]:
        headers = {**auth, "Last-Event-ID": value}
        await expect_error(server, path, headers, 400, "invalid_request")
    for value in ["-1", "abc", "1.5"]:
        await expect_error(server, f"{path}?afterEventId={value}", auth, 400, "invalid_request")


async def test_without_a_valid_key_is_401(server: LiveServer, job_id: str) -> None:
    path = f"/api/optimizations/{job_id}/stream"
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}]:
        await expect_error(server, path, headers, 401, "unauthorized")
