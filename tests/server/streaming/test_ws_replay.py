"""Replay in batches of at most 500: the ``replay`` command (stored events only, no
subscription) and ``subscribe`` with ``afterEventId`` over a long log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.streaming.clients import WsClient, ws
from tests.server.streaming.support import Feed, assert_contiguous, events_in
from tests.support.live import LiveServer
from whetstone.bus.memory import InProcessEventBus
from whetstone.server.services import Services

STORED = 1200


@pytest.fixture
async def long_job(job_id: str, services: Services) -> str:
    """A job with 1200 stored events, written through the store in one transaction."""
    await Feed(services, job_id).write(STORED, publish=False)
    return job_id


async def replay_batches(client: WsClient, job_id: str, **fields: Any) -> list[dict[str, Any]]:
    await client.send({"type": "replay", "jobId": job_id, **fields})
    batches = [await client.expect("replay", jobId=job_id)]
    while batches[-1]["hasMore"]:
        batches.append(await client.expect("replay", jobId=job_id))
    return batches


BATCHES: list[tuple[dict[str, Any], list[int]]] = [
    ({"afterEventId": 0}, [500, 500, 200]),
    ({}, [500, 500, 200]),
    ({"afterEventId": 1}, [500, 500, 199]),
    ({"afterEventId": 700}, [500]),
    ({"afterEventId": 699}, [500, 1]),
    ({"afterEventId": 1199}, [1]),
    ({"afterEventId": STORED}, [0]),
    ({"afterEventId": STORED + 50}, [0]),
]


async def test_replay_command_batches(server: LiveServer, key: str, long_job: str) -> None:
    async with ws(server, key) as client:
        for fields, sizes in BATCHES:
            batches = await replay_batches(client, long_job, **fields)
            assert [len(b["data"]) for b in batches] == sizes, fields
            assert [b["hasMore"] for b in batches] == [True] * (len(sizes) - 1) + [False]
            first = min(fields.get("afterEventId", 0), STORED) + 1
            assert_contiguous(events_in(batches, long_job), first, STORED, long_job)
        await client.ping()


async def test_replay_command_does_not_subscribe(
    server: LiveServer, key: str, long_job: str, services: Services
) -> None:
    async with ws(server, key) as client:
        await replay_batches(client, long_job, afterEventId=1190)
        assert isinstance(services.bus, InProcessEventBus)
        assert services.bus.subscriber_count(long_job) == 0
        await Feed(services, long_job).write(1)
        await client.ping()
        assert [f["type"] for f in client.seen] == ["authenticated", "replay", "pong"]


async def test_replay_command_twice_gives_the_same_events(
    server: LiveServer, key: str, long_job: str
) -> None:
    async with ws(server, key) as client:
        first = events_in(await replay_batches(client, long_job, afterEventId=900), long_job)
        second = events_in(await replay_batches(client, long_job, afterEventId=900), long_job)
        assert first == second
        assert_contiguous(first, 901, STORED, long_job)


async def test_subscribe_over_a_long_log_batches_then_goes_live(
    server: LiveServer, key: str, long_job: str, services: Services
) -> None:
    feed = Feed(services, long_job)
    async with ws(server, key) as client:
        assert (await client.subscribe(long_job, after=100))["headEventId"] == STORED
        await feed.write(2)
        await feed.finish()
        events = await client.events(long_job)
        assert_contiguous(events, 101, STORED + 3, long_job)
        replays = [f for f in client.seen if f["type"] == "replay"]
        assert all(len(f["data"]) <= 500 for f in replays), [len(f["data"]) for f in replays]
        assert [f["hasMore"] for f in replays][-1] is False
        assert all(f["hasMore"] for f in replays[:-1])
        replayed = events_in(replays, long_job)
        assert_contiguous(replayed[: STORED - 100], 101, STORED, long_job)
