"""``subscribe`` and ``unsubscribe`` with events the test writes and publishes itself: replay
from any id then live without gap or duplicate, live only, several jobs on one socket,
foreign jobs. The runner is off, so every id is the test's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.streaming.clients import sockets, ws
from tests.server.streaming.support import (
    Feed,
    assert_contiguous,
    events_in,
    ids,
    memory_bus,
    new_job,
    stored,
)
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.server.services import Services

HEAD = 12  # events stored before anyone subscribes


async def test_subscribe_without_after_is_live_only(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(5)
    async with ws(server, key) as client:
        assert await client.subscribe(job_id) == {
            "type": "subscribed",
            "jobId": job_id,
            "headEventId": 5,
        }
        await feed.write(3)
        await feed.finish()
        events = await client.events(job_id)
        assert_contiguous(events, 6, 9, job_id)
        assert [f["type"] for f in client.seen[2:]] == ["event"] * 4  # no replay frame
        assert events[-1]["eventType"] == "job_complete"


async def test_subscribe_after_k_replays_k_plus_1_to_head_then_live(
    server: LiveServer, key: str, api: Api, services: Services
) -> None:
    for k in range(HEAD + 1):
        job_id = await new_job(api)
        await _replay_then_live(server, key, services, job_id, k)


async def _replay_then_live(
    server: LiveServer, key: str, services: Services, job_id: str, k: int
) -> None:
    feed = Feed(services, job_id)
    for _ in range(HEAD // 3):
        await feed.write(3)
    async with ws(server, key) as client:
        subscribed = await client.subscribe(job_id, after=k)
        assert subscribed["headEventId"] == HEAD
        live = await feed.write(2)
        await feed.publish(live)  # delivered twice by the bus: sent once
        await feed.publish((await feed.write(1, publish=False)) + live)  # stored, out of order
        await feed.finish()
        events = await client.events(job_id)
        assert_contiguous(events, k + 1, HEAD + 4, job_id)
        replayed = [e["id"] for f in client.seen if f["type"] == "replay" for e in f["data"]]
        assert replayed[: HEAD - k] == list(range(k + 1, HEAD + 1))  # the stored ones: replay
        final_replay = [f for f in client.seen if f["type"] == "replay"][-1]
        assert final_replay["hasMore"] is False
        await client.ping()
        assert ids(await stored(services, job_id)) == list(range(1, HEAD + 5))


async def test_many_subscribers_from_different_ids_at_once(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    """Every k on its own socket, all open while the live events are published."""
    feed = Feed(services, job_id)
    await feed.write(HEAD)
    async with sockets(server, key, HEAD + 1) as clients:
        for k, client in enumerate(clients):
            await client.subscribe(job_id, after=k)
        for _ in range(5):
            await feed.write(1)
        await feed.finish()
        for k, client in enumerate(clients):
            assert_contiguous(await client.events(job_id), k + 1, HEAD + 6, job_id)


async def test_completed_job_replays_everything_and_says_no_more(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(4)
    await feed.finish()
    async with ws(server, key) as client:
        assert (await client.subscribe(job_id, after=0))["headEventId"] == 5
        assert_contiguous(await client.events(job_id), 1, 5, job_id)
        assert (await client.subscribe(job_id))["headEventId"] == 5  # live only: nothing comes
        await client.ping()
        assert [f["type"] for f in client.seen] == [
            "authenticated",
            "subscribed",
            "replay",
            "subscribed",
            "pong",
        ]


async def test_one_socket_two_jobs(
    server: LiveServer, key: str, api: Api, services: Services
) -> None:
    jobs = [await new_job(api) for _ in range(2)]
    feeds = [Feed(services, j) for j in jobs]
    await feeds[0].write(3)  # only the first job has history
    async with ws(server, key) as client:
        await client.subscribe(jobs[0], after=0)
        await client.subscribe(jobs[1])
        for _ in range(4):
            for feed in feeds:
                await feed.write(1)
        for feed in feeds:
            await feed.finish()
        got = await client.until_all_end(set(jobs))
        assert_contiguous(got[jobs[0]], 1, 8, jobs[0])
        assert_contiguous(got[jobs[1]], 1, 5, jobs[1])


async def test_unsubscribe_stops_that_job_only(
    server: LiveServer, key: str, api: Api, services: Services
) -> None:
    first, second = [await new_job(api) for _ in range(2)]
    async with ws(server, key) as client:
        await client.subscribe(first)
        await client.subscribe(second)
        assert memory_bus(services).subscriber_count(first) == 1
        await client.send({"type": "unsubscribe", "jobId": first})
        assert await client.expect("unsubscribed") == {"type": "unsubscribed", "jobId": first}
        assert memory_bus(services).subscriber_count(first) == 0
        await Feed(services, first).write(2)
        await Feed(services, second).write(1)
        assert_contiguous(await client.events(second, until=1), 1, 1, second)
        await client.ping()
        assert events_in(client.seen, first) == []
        # what it missed is still there for a client that asks again
        await client.subscribe(first, after=0)
        assert_contiguous(await client.events(first, until=2), 1, 2, first)


async def test_unsubscribe_of_a_job_not_subscribed(server: LiveServer, key: str) -> None:
    async with ws(server, key) as client:
        await client.send({"type": "unsubscribe", "jobId": "job_never"})
        assert await client.expect("unsubscribed") == {"type": "unsubscribed", "jobId": "job_never"}
        await client.ping()


async def test_resubscribe_replaces_the_subscription(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    feed = Feed(services, job_id)
    await feed.write(3)
    async with ws(server, key) as client:
        await client.subscribe(job_id)
        await client.subscribe(job_id, after=1)
        assert memory_bus(services).subscriber_count(job_id) == 1
        await feed.write(1)
        await feed.finish()
        assert_contiguous(await client.events(job_id), 2, 5, job_id)


@pytest.mark.parametrize("command", ["subscribe", "replay"])
async def test_foreign_job_is_not_found_and_socket_stays_usable(
    server: LiveServer,
    other_key: str,
    job_id: str,
    services: Services,
    command: str,
) -> None:
    await Feed(services, job_id).write(2)
    async with ws(server, other_key) as client:
        frame: dict[str, Any] = {"type": command, "jobId": job_id, "afterEventId": 0}
        await client.send(frame)
        error = await client.expect("error")
        assert error["code"] == "not_found", error
        assert error["jobId"] == job_id, error
        assert "data" not in error
        assert memory_bus(services).subscriber_count(job_id) == 0
        await client.ping()
        assert [f["type"] for f in client.seen] == ["authenticated", "error", "pong"]
