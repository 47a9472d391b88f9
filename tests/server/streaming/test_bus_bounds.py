"""``InProcessEventBus``: one bounded queue per subscriber, by count and by bytes; an overflow
evicts that subscriber only, and publishing never waits on anyone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from whetstone.bus.base import SubscriberEvicted
from whetstone.bus.memory import InProcessEventBus, MemorySubscription
from whetstone.domain.codec import EncodedEvent
from whetstone.domain.events import Event, JobPaused, Stage

JOB = "job_a"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make(first: int, count: int = 1, *, job_id: str = JOB, pad: int = 0) -> list[EncodedEvent]:
    """Events ``first..first+count-1``; ``pad`` makes each body that much longer."""
    return [
        EncodedEvent(Event(i, job_id, 1, Stage.SELECTION, T0, JobPaused(1, "x" * pad)))
        for i in range(first, first + count)
    ]


def drain(sub: MemorySubscription) -> list[int]:
    out: list[int] = []
    while (event := sub.get_nowait()) is not None:
        out.append(event.id)
    return out


async def waiting_reader(sub: MemorySubscription) -> asyncio.Task[EncodedEvent]:
    """A task already blocked in ``sub.get()`` on an empty queue."""
    started = asyncio.Event()

    async def read() -> EncodedEvent:
        started.set()  # runs on into get() and blocks there before we resume
        return await sub.get()

    task = asyncio.create_task(read())
    await started.wait()
    return task


async def test_queue_up_to_the_count_bound_is_kept() -> None:
    bus = InProcessEventBus(max_events=3)
    sub = bus.subscribe(JOB)
    await bus.publish(JOB, make(1, 3))
    assert drain(sub) == [1, 2, 3]
    await bus.publish(JOB, make(4, 3))  # the bound is on what waits, not on the total
    assert drain(sub) == [4, 5, 6]
    assert bus.subscriber_count(JOB) == 1


async def test_count_overflow_evicts_that_subscriber_only() -> None:
    bus = InProcessEventBus(max_events=3)
    slow, fast = bus.subscribe(JOB), bus.subscribe(JOB)
    got: list[int] = []
    for first in range(1, 9, 2):
        await bus.publish(JOB, make(first, 2))
        got += drain(fast)
    assert got == list(range(1, 9))
    assert slow.evicted
    assert not fast.evicted
    with pytest.raises(SubscriberEvicted):
        slow.get_nowait()
    with pytest.raises(SubscriberEvicted):
        await slow.get()
    assert bus.subscriber_count(JOB) == 1
    await bus.publish(JOB, make(9))
    assert drain(fast) == [9]
    with pytest.raises(SubscriberEvicted):  # still evicted: it must resubscribe
        slow.get_nowait()


async def test_bytes_overflow_evicts() -> None:
    one = len(make(1, pad=400)[0].body)
    bus = InProcessEventBus(max_events=1000, max_bytes=2 * one + one // 2)
    sub, other = bus.subscribe(JOB), bus.subscribe(JOB)
    await bus.publish(JOB, make(1, 2, pad=400))
    assert not sub.evicted
    assert drain(other) == [1, 2]
    await bus.publish(JOB, make(3, pad=400))
    with pytest.raises(SubscriberEvicted):
        sub.get_nowait()
    assert drain(other) == [3]
    assert bus.subscriber_count(JOB) == 1


async def test_bytes_are_given_back_when_read() -> None:
    one = len(make(1, pad=400)[0].body)
    bus = InProcessEventBus(max_events=1000, max_bytes=2 * one + 10)  # ids grow a digit
    sub = bus.subscribe(JOB)
    for first in range(1, 20, 2):
        await bus.publish(JOB, make(first, 2, pad=400))
        assert drain(sub) == [first, first + 1]
    assert not sub.evicted


async def test_a_waiting_reader_is_woken_by_its_eviction() -> None:
    bus = InProcessEventBus(max_events=2)
    sub = bus.subscribe(JOB)
    reader = await waiting_reader(sub)
    await bus.publish(JOB, make(1, 5))  # in one call: the reader never ran in between
    with pytest.raises(SubscriberEvicted):
        async with asyncio.timeout(5):
            await reader


async def test_a_waiting_reader_gets_the_next_event() -> None:
    bus = InProcessEventBus(max_events=2)
    sub = bus.subscribe(JOB)
    reader = await waiting_reader(sub)
    await bus.publish(JOB, make(1))
    async with asyncio.timeout(5):
        assert (await reader).id == 1


async def test_publish_never_waits_on_a_stalled_subscriber() -> None:
    bus = InProcessEventBus(max_events=10)
    bus.subscribe(JOB)  # never read
    async with asyncio.timeout(5):
        for first in range(1, 1000, 100):
            await bus.publish(JOB, make(first, 100))


async def test_jobs_are_separate_and_closed_subscribers_leave() -> None:
    bus = InProcessEventBus(max_events=2)
    a, b = bus.subscribe(JOB), bus.subscribe("job_b")
    await bus.publish("job_b", make(1, 2, job_id="job_b"))
    assert drain(a) == []
    assert drain(b) == [1, 2]
    a.close()
    assert bus.subscriber_count(JOB) == 0
    await bus.publish(JOB, make(1, 5))  # nobody listening: nothing to overflow
    assert drain(a) == []
    assert not a.evicted
    await bus.publish("job_b", make(3, 3, job_id="job_b"))  # b was not reading: b overflows
    assert b.evicted
    assert bus.subscriber_count("job_b") == 0


async def test_notify_is_called_for_each_queued_event_when_no_one_waits() -> None:
    bus = InProcessEventBus(max_events=10)
    sub = bus.subscribe(JOB)
    calls: list[int] = []
    sub.notify = lambda: calls.append(len(calls))
    await bus.publish(JOB, make(1, 3))
    assert len(calls) == 3
    assert drain(sub) == [1, 2, 3]


async def test_notify_is_not_called_while_a_reader_waits() -> None:
    bus = InProcessEventBus(max_events=10)
    sub = bus.subscribe(JOB)
    calls: list[None] = []
    reader = await waiting_reader(sub)
    sub.notify = lambda: calls.append(None)
    await bus.publish(JOB, make(1))
    assert (await reader).id == 1
    assert calls == []


async def test_notify_tells_the_owner_of_an_eviction() -> None:
    bus = InProcessEventBus(max_events=2)
    evictions: list[None] = []
    sub = bus.subscribe(JOB, lambda: evictions.append(None))
    calls: list[None] = []
    sub.notify = lambda: calls.append(None)
    await bus.publish(JOB, make(1, 3))
    assert evictions == [None]
    assert calls  # the owner's drain runs and meets the eviction
    with pytest.raises(SubscriberEvicted):
        sub.get_nowait()


async def test_a_closed_subscription_is_not_notified() -> None:
    bus = InProcessEventBus()
    sub = bus.subscribe(JOB)
    calls: list[None] = []
    sub.notify = lambda: calls.append(None)
    sub.close()
    await bus.publish(JOB, make(1))
    assert calls == []
