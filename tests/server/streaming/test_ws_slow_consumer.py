"""A subscriber that stops reading: its bounded bus queue overflows (by count or by bytes),
it alone is closed with 4408, it resubscribes from its last id and loses nothing; a fast
client on the same job gets every event as it is published all along."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.server.streaming.clients import WsClient, ws
from tests.server.streaming.support import Feed, Frame, assert_contiguous, events_in
from tests.support.live import LiveServer
from whetstone.bus.memory import InProcessEventBus
from whetstone.server.services import Services

TOO_SLOW = 4408
EVENT_BYTES = 32 * 1024  # big events fill the socket buffers of a stalled client quickly
MAX_EVENTS = 2000  # a bound: eviction needs far fewer (socket buffers are finite)
FAST = 2.0  # seconds the fast client may wait for any one event

pytestmark = pytest.mark.parametrize(
    "settings_overrides",
    [
        {"subscriber_max_events": 5},
        {"subscriber_max_bytes": 3 * EVENT_BYTES},
    ],
    ids=["by-count", "by-bytes"],
)


@asynccontextmanager
async def stalled_client(server: LiveServer, key: str) -> AsyncIterator[WsClient]:
    """A client whose socket takes little before the sender must wait: a small receive
    buffer, no compression, and at most one frame read ahead while the test is not reading."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    async with ws(server, key, sock=sock, compression=None, max_queue=1) as client:
        yield client


async def publish_checked(feed: Feed, fast: WsClient, count: int) -> list[Frame]:
    """Publish ``count`` big events one at a time; the fast client has each within ``FAST``
    seconds, before the next is published."""
    got: list[Frame] = []
    for _ in range(count):
        (event,) = await feed.write(1, size=EVENT_BYTES)
        got += await fast.events(feed.job_id, until=event.id, within=FAST)
    return got


async def test_slow_consumer_is_evicted_and_resumes_without_loss(
    server: LiveServer, key: str, job_id: str, services: Services
) -> None:
    bus = services.bus
    assert isinstance(bus, InProcessEventBus)
    feed = Feed(services, job_id)
    await feed.write(3)
    async with ws(server, key, compression=None) as fast:
        await fast.subscribe(job_id, after=0)
        fast_events = await fast.events(job_id, until=3)
        async with stalled_client(server, key) as slow:
            await slow.subscribe(job_id, after=0)
            await slow.events(job_id, until=3)  # its replay is out: it is live from here
            assert bus.subscriber_count(job_id) == 2
            # the slow client reads nothing now; publish until the bus lets go of it
            while bus.subscriber_count(job_id) == 2:
                assert fast_events[-1]["id"] < MAX_EVENTS, "the stalled client was never evicted"
                fast_events += await publish_checked(feed, fast, 1)
            evicted_at = fast_events[-1]["id"]
            fast_events += await publish_checked(feed, fast, 5)  # the job carries on

            # the slow client now reads what reached it, then the 4408 close
            assert await slow.closed() == TOO_SLOW
            before = events_in(slow.seen, job_id)
            assert before, "the slow client got nothing before its eviction"
            last = before[-1]["id"]
            assert_contiguous(before, 1, last, job_id)
            assert last < evicted_at

        # resubscribe from the last id, mid-job; a replay batch of big events is big
        async with ws(server, key, max_size=None) as again:
            await again.subscribe(job_id, after=last)
            # its replay first: with a queue of a few big events, publishing during a
            # replay of megabytes would rightly evict it again
            after = await again.events(job_id, until=fast_events[-1]["id"])
            fast_events += await publish_checked(feed, fast, 5)
            done = await feed.finish()
            fast_events += await fast.events(job_id, within=FAST)
            after += await again.events(job_id)
    assert_contiguous(fast_events, 1, done.id, job_id)
    assert_contiguous(before + after, 1, done.id, job_id)
    assert bus.subscriber_count(job_id) == 0
