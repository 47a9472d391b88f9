"""The SDK against a real server, through a proxy that cuts every connection several times
mid-job, and across a restart of the server: every event arrives exactly once and in order,
and ``on_complete`` fires once. The job's iterations wait for the test (``Gates``), so each
cut lands at a known point."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.sdk.conftest import FAST
from tests.sdk.live import Gates, job
from tests.sdk.proxy import TcpProxy, tcp_proxy
from tests.sdk.support import Recorder
from tests.support.api import Api
from tests.support.engines import hooked
from tests.support.live import live_server
from whetstone.clock import ManualClock
from whetstone.engine.base import EngineFactory
from whetstone.sdk import AsyncWhetstone, JobComplete, JobStarted
from whetstone.sdk.links import LinkKind
from whetstone.server.app import build_services
from whetstone.server.services import Services
from whetstone.settings import Settings

ITERATIONS = 6
EVENTS = 1 + 2 * ITERATIONS + 1  # job_started, two per iteration, job_complete


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def engine_factory(gates: Gates) -> EngineFactory:
    return hooked(gates.hook)


@contextlib.asynccontextmanager
async def sdk(url: str, key: str) -> AsyncIterator[AsyncWhetstone]:
    async with AsyncWhetstone(url, key, reconnect=FAST, trust_env=False) as client:
        yield client


def assert_whole_job(rec: Recorder, log: list[dict[str, object]]) -> None:
    assert rec.ids == list(range(1, EVENTS + 1))
    assert [e.id for e in rec.events] == [e["id"] for e in log]
    assert [e.type for e in rec.events] == [e["eventType"] for e in log]
    assert isinstance(rec.events[0], JobStarted)
    assert isinstance(rec.events[-1], JobComplete)
    assert len(rec.results) == 1
    assert rec.results[0].iterations == ITERATIONS
    assert rec.errors == []
    assert rec.states[-1] == "closed"
    assert rec.states.count("closed") == 1


@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_cuts_mid_job_lose_and_repeat_nothing(
    proxy: TcpProxy, key: str, api: Api, gates: Gates, transport: LinkKind
) -> None:
    job_id = await job(api, ITERATIONS)
    rec = Recorder()
    async with sdk(proxy.url, key) as client:
        sub = client.optimization.subscribe(
            job_id, after_event_id=0, transport=transport, **rec.callbacks()
        )
        for iteration in range(1, ITERATIONS + 1):
            await rec.event_count(2 * iteration - 1)
            if iteration % 2:  # the iteration's events are written while the link is down
                assert proxy.cut() >= 1
                await gates.release()
            else:  # or while they are on their way
                await gates.release()
                proxy.cut()
        results = await sub.wait()
        await rec.closed()
    assert results is not None
    assert results.status == "completed"
    assert_whole_job(rec, await api.events(job_id))
    assert rec.states.count("reconnecting") >= ITERATIONS // 2
    assert proxy.accepted > ITERATIONS // 2


async def test_a_server_restart_mid_job_loses_and_repeats_nothing(
    services: Services,
    settings: Settings,
    clock: ManualClock,
    engine_factory: EngineFactory,
    key: str,
    api: Api,
    gates: Gates,
) -> None:
    job_id = await job(api, ITERATIONS)
    rec = Recorder()
    async with tcp_proxy(None) as proxy, sdk(proxy.url, key) as client:
        async with live_server(services) as first:
            proxy.target_port = first.port
            sub = client.optimization.subscribe(job_id, after_event_id=0, **rec.callbacks())
            await gates.release(2)
            await rec.event_count(5)
            assert services.runner is not None
            await services.runner.stop()  # the job stays "running"; a restart resumes it
        proxy.target_port = None  # down: every attempt is refused
        proxy.cut()
        await rec.until(lambda: rec.states[-1] == "reconnecting")
        restarted = build_services(settings, clock=clock, engine_factory=engine_factory)
        await restarted.store.start()
        try:
            async with live_server(restarted) as second:
                proxy.target_port = second.port
                await gates.release(ITERATIONS - 2)
                results = await sub.wait()
                await rec.closed()
        finally:
            await restarted.stop()
    assert results is not None
    assert results.status == "completed"
    assert_whole_job(rec, await api.events(job_id))
