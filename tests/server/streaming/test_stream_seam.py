"""``JobStream`` on the real store and in-process bus: the seam between replay and live has
neither a gap nor a duplicate whatever is published while it replays, and a live event that
arrives ahead of its predecessors is preceded by them, read from the store, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.server.streaming.support import TIMEOUT, Feed, memory_bus
from tests.support.api import Api
from whetstone.bus.base import SubscriberEvicted
from whetstone.domain.codec import EncodedEvent
from whetstone.domain.job import Job
from whetstone.server.services import Services
from whetstone.server.streaming import JobStream, Stored
from whetstone.store.base import Store


def flat(item: EncodedEvent | Stored) -> list[int]:
    return list(item.page.ids) if isinstance(item, Stored) else [item.id]


async def take(live: AsyncIterator[EncodedEvent | Stored], count: int) -> list[int]:
    """The next ``count`` ids handed out live (a ``Stored`` run counts as its events)."""
    out: list[int] = []
    async with asyncio.timeout(TIMEOUT):
        while len(out) < count:
            out += flat(await anext(live))
    return out


async def rest(stream: JobStream, within: float = TIMEOUT) -> list[int]:
    """Every id handed out live until the terminal event (or at once if it was sent)."""
    out: list[int] = []
    async with asyncio.timeout(within):
        async for item in stream.live():
            out += flat(item)
    return out


async def replayed(stream: JobStream) -> list[int]:
    out: list[int] = []
    async for page in stream.replay():
        out += page.ids
    return out


def stream(services: Services, job_id: str, after: int | None) -> JobStream:
    return JobStream(services.store, services.bus, job_id, after)


async def test_published_during_replay_is_sent_once(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    await feed.write(1100, publish=False)  # three replay pages
    async with stream(services, job_id, 0) as s:
        got: list[int] = []
        async for page in s.replay():
            got += page.ids
            await feed.write(2)  # stored and published between two pages
        await feed.write(3)
        await feed.finish()
        got += await rest(s)
        assert s.finished
    assert got == list(range(1, 1100 + 2 * 3 + 3 + 2))


async def test_stored_before_registering_published_after(services: Services, job_id: str) -> None:
    """The runner stored 1..5, we registered, then it published them: replay has them, the
    bus delivers them again, and each goes out once."""
    feed = Feed(services, job_id)
    early = await feed.write(5, publish=False)
    async with stream(services, job_id, 2) as s:
        assert s.head == 5
        await feed.publish(early)
        assert await replayed(s) == [3, 4, 5]
        await feed.write(2)
        await feed.publish(early)  # a late duplicate delivery
        await feed.finish()
        assert await rest(s) == [6, 7, 8]


async def test_stored_after_the_head_was_read(services: Services, job_id: str) -> None:
    """Stored and published after the stream began: replay reads it, live skips it."""
    feed = Feed(services, job_id)
    await feed.write(3)
    async with stream(services, job_id, 0) as s:
        assert s.head == 3
        await feed.write(2)
        assert await replayed(s) == [1, 2, 3, 4, 5]
        await feed.finish()
        assert await rest(s) == [6]


async def test_terminal_event_replayed_ends_the_stream(services: Services, job_id: str) -> None:
    """The job ends after the stream read the head but before it replays: the terminal event
    goes out in the replay, so the live part must end at once, not wait for more."""
    feed = Feed(services, job_id)
    await feed.write(3)
    async with stream(services, job_id, 0) as s:
        assert s.head == 3
        await feed.finish()
        assert await replayed(s) == [1, 2, 3, 4]
        assert await rest(s, within=2.0) == []


class HeadHookStore:
    """The real store, with ``hook`` run once just after a job's row is read by ``get_any``:
    the instant a stream has read its head."""

    def __init__(self, inner: Store, hook: Callable[[], Awaitable[None]]) -> None:
        self._inner = inner
        self._hook: Callable[[], Awaitable[None]] | None = hook
        self.keys, self.prompts, self.datasets = inner.keys, inner.prompts, inner.datasets
        self.events = inner.events
        self.jobs = self
        self.start, self.close = inner.start, inner.close

    async def get_any(self, job_id: str) -> Job:
        job = await self._inner.jobs.get_any(job_id)
        if self._hook is not None:
            hook, self._hook = self._hook, None
            await hook()
        return job


async def test_event_landing_while_the_head_is_read_reaches_live_only_stream(
    services: Services, job_id: str
) -> None:
    """Stored and published right after the head was read: only a stream that registered on
    the bus before reading can see it (nothing later would fill the gap)."""
    feed = Feed(services, job_id)
    await feed.write(3)

    async def land() -> None:
        await feed.finish()

    store = HeadHookStore(services.store, land)
    # a partial Store: JobStream uses only jobs.get_any and events
    async with JobStream(store, services.bus, job_id, None) as s:  # type: ignore[arg-type]
        assert s.head == 3
        assert await replayed(s) == []
        assert await rest(s) == [4]


@pytest.mark.parametrize("after", [None, 0, 7, 20])
async def test_with_a_concurrent_writer(services: Services, job_id: str, after: int | None) -> None:
    """A writer stores and publishes 150 events one by one while the stream opens, replays and
    goes live; the ids handed out are exactly those after ``after`` (or the head), in order."""
    feed = Feed(services, job_id)
    await feed.write(20, publish=False)

    async def writer() -> None:
        for _ in range(150):
            await feed.write(1)
        await feed.finish()

    task = asyncio.create_task(writer())
    try:
        async with stream(services, job_id, after) as s:
            got = await replayed(s) + await rest(s)
            first = (s.head if after is None else after) + 1
    finally:
        async with asyncio.timeout(TIMEOUT):
            await task
    assert got == list(range(first, 20 + 150 + 2))


async def test_gap_is_filled_from_the_store(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    await feed.write(4)
    async with stream(services, job_id, 0) as s:
        assert await replayed(s) == [1, 2, 3, 4]
        live = s.live()
        skipped = await feed.write(1, publish=False)  # 5: stored, not (yet) published
        await feed.write(1)  # 6: published
        first = await anext(live)
        assert isinstance(first, Stored)
        assert first.page.ids == [5]
        second = await anext(live)
        assert isinstance(second, EncodedEvent)
        assert second.id == 6
        await feed.publish(skipped)  # 5 arrives late: already sent
        await feed.write(1)
        await feed.finish()
        assert await take(live, 2) == [7, 8]


async def test_wider_gap_and_gap_inside_one_publish(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    async with stream(services, job_id, None) as s:
        live = s.live()
        await feed.write(3, publish=False)  # 1..3 only in the store
        await feed.publish(await feed.write(2, publish=False))  # 4, 5 published together
        items = [await anext(live) for _ in range(3)]
        assert isinstance(items[0], Stored)
        assert items[0].page.ids == [1, 2, 3]
        assert [flat(i) for i in items[1:]] == [[4], [5]]
        hidden = await feed.write(4, publish=False)  # 6..9
        await feed.publish(hidden[2:])  # 8, 9: 6 and 7 come from the store first
        assert await take(live, 4) == [6, 7, 8, 9]
        await feed.finish()
        assert await take(live, 1) == [10]
        with pytest.raises(StopAsyncIteration):
            await anext(live)


async def test_live_only_starts_after_the_head(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    await feed.write(6)
    async with stream(services, job_id, None) as s:
        assert s.head == 6
        assert await replayed(s) == []
        await feed.write(2)
        await feed.finish()
        assert await rest(s) == [7, 8, 9]


async def test_after_beyond_the_head_starts_at_the_head(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    await feed.write(3)
    async with stream(services, job_id, 50) as s:
        assert await replayed(s) == []
        await feed.finish()
        assert await rest(s) == [4]


@pytest.mark.parametrize("after", [None, 0, 2, 5])
async def test_ended_job_ends_the_stream(
    services: Services, job_id: str, after: int | None
) -> None:
    feed = Feed(services, job_id)
    await feed.write(4)
    await feed.finish()
    async with stream(services, job_id, after) as s:
        got = await replayed(s)
        assert got == list(range((5 if after is None else after) + 1, 6))
        assert await rest(s) == []
        assert s.finished is (after is not None)  # it handed out the terminal event


@pytest.mark.parametrize("settings_overrides", [{"subscriber_max_events": 3}])
async def test_falling_behind_raises_evicted(services: Services, job_id: str) -> None:
    feed = Feed(services, job_id)
    async with stream(services, job_id, None) as s:
        live = s.live()
        await feed.write(2)
        assert await take(live, 2) == [1, 2]
        await feed.write(4)  # more than 3 waiting
        with pytest.raises(SubscriberEvicted):
            await take(live, 1)
    # the store has everything: a new stream from the last id sent loses nothing
    await feed.finish()
    async with stream(services, job_id, 2) as again:
        assert await replayed(again) == [3, 4, 5, 6, 7]
        assert await rest(again) == []


async def test_leaving_the_stream_unsubscribes(services: Services, job_id: str, api: Api) -> None:
    async with stream(services, job_id, None):
        assert memory_bus(services).subscriber_count(job_id) == 1
    assert memory_bus(services).subscriber_count(job_id) == 0
    assert (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]["lastEventId"] == 0


async def test_take_ready_hands_out_what_follows_on_and_stops_at_a_gap(
    services: Services, job_id: str
) -> None:
    """The WebSocket's drain: queued events in order without waiting, duplicates dropped, and
    an event that overtook its predecessors handed back for a gap fill from the store."""
    feed = Feed(services, job_id)
    async with stream(services, job_id, None) as s:
        assert s.take_ready() == ([], None)  # nothing queued: nothing, and no waiting
        first = await feed.write(2)  # 1, 2
        await feed.publish(first[:1])  # 1 again: already queued, dropped once taken
        taken, overtaking = s.take_ready()
        assert [e.id for e in taken] == [1, 2]
        assert overtaking is None
        hidden = await feed.write(2, publish=False)  # 3, 4 only in the store
        await feed.publish(hidden[1:])  # 4 overtakes 3
        taken, overtaking = s.take_ready()
        assert taken == []
        assert overtaking is not None
        assert overtaking.id == 4
        filled = [i for item in [x async for x in s.accept(overtaking)] for i in flat(item)]
        assert filled == [3, 4]
        await feed.finish()  # 5, terminal
        taken, overtaking = s.take_ready()
        assert [e.id for e in taken] == [5]
        assert s.done
        await feed.write(1)  # nothing after the terminal event is handed out
        assert s.take_ready() == ([], None)
