"""Real simulator runs streamed over ``/ws/optimization`` while the runner works: several
sockets see one sequence, a reconnect with the last id loses nothing, one socket follows two
jobs. Each simulated call takes a few ms so the job is mid-run while the test acts."""

from __future__ import annotations

import pytest

from tests.server.streaming.clients import ws
from tests.server.streaming.support import TERMINAL, Frame, assert_contiguous, sim_job
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory

LATENCY_MS = 10


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


def assert_whole_run(events: list[Frame], job_id: str) -> None:
    """A complete job stream: ids 1..n, job_started first, one terminal event, last."""
    assert_contiguous(events, 1, len(events), job_id)
    types = [e["eventType"] for e in events]
    assert types[0] == "job_started"
    assert types[-1] == "job_complete"
    assert [t for t in types if t in TERMINAL] == ["job_complete"]


async def test_sockets_on_one_job_see_the_same_sequence(
    running_server: LiveServer, key: str, api: Api
) -> None:
    """Two sockets from the start, and a third that joins mid-run live only: the third sees
    exactly the others' sequence after the head it was told."""
    job_id = await sim_job(api, LATENCY_MS)
    async with ws(running_server, key) as first, ws(running_server, key) as second:
        await first.subscribe(job_id, after=0)
        await second.subscribe(job_id, after=0)
        a = await first.events(job_id, until=10)
        assert a[-1]["eventType"] not in TERMINAL
        async with ws(running_server, key) as late:
            head = (await late.subscribe(job_id))["headEventId"]
            assert head >= 10
            c = await late.events(job_id)
        a += await first.events(job_id)
        b = await second.events(job_id)
    assert a == b
    assert_whole_run(a, job_id)
    assert a == await api.events(job_id)
    assert c == a[head:]


async def test_reconnect_mid_job_with_the_last_id(
    running_server: LiveServer, key: str, api: Api
) -> None:
    job_id = await sim_job(api, LATENCY_MS)
    async with ws(running_server, key) as client:
        await client.subscribe(job_id, after=0)
        before = await client.events(job_id, until=12)
    last = before[-1]["id"]
    assert before[-1]["eventType"] not in TERMINAL, "the job ended before the disconnect"
    status = (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]["status"]
    assert status == "running"
    async with ws(running_server, key) as again:
        subscribed = await again.subscribe(job_id, after=last)
        assert subscribed["headEventId"] >= last
        after = await again.events(job_id)
    assert after[0]["id"] == last + 1
    assert_whole_run(before + after, job_id)
    assert before + after == await api.events(job_id)


async def test_reconnect_repeatedly(running_server: LiveServer, key: str, api: Api) -> None:
    """Disconnect after every few events; the pieces join up exactly."""
    job_id = await sim_job(api, LATENCY_MS)
    got: list[Frame] = []
    while not got or got[-1]["eventType"] not in TERMINAL:
        async with ws(running_server, key) as client:
            last = got[-1]["id"] if got else 0
            await client.subscribe(job_id, after=last)
            got += await client.events(job_id, until=last + 5)
    assert_whole_run(got, job_id)


async def test_one_socket_follows_two_running_jobs(
    running_server: LiveServer, key: str, api: Api
) -> None:
    jobs = [await sim_job(api, LATENCY_MS), await sim_job(api, LATENCY_MS, maxIterations=2)]
    async with ws(running_server, key) as client:
        for job_id in jobs:
            await client.subscribe(job_id, after=0)
        got = await client.until_all_end(set(jobs))
        for job_id in jobs:
            assert_whole_run(got[job_id], job_id)
            assert got[job_id] == await api.events(job_id)
