"""Jobs driven through the SDK against a real server: pause, resume and cancel seen by an
open subscription, a failing job, a refused key, an unknown job, ``stream()`` through cuts,
and a live-only subscription joining mid-run."""

from __future__ import annotations

import pytest

from tests.sdk.conftest import FAST
from tests.sdk.live import Gates, job
from tests.sdk.proxy import TcpProxy
from tests.sdk.support import Recorder
from tests.support.api import Api
from tests.support.engines import hooked
from tests.support.live import LiveServer
from whetstone.engine.base import EngineFactory
from whetstone.errors import InternalError, InvalidTransition, NotFound, Unauthorized
from whetstone.sdk import (
    AsyncWhetstone,
    IterationComplete,
    JobCancelled,
    JobFailed,
    JobFailedError,
    JobPaused,
    JobResumed,
)


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def engine_factory(gates: Gates) -> EngineFactory:
    return hooked(gates.hook)


def client_of(server: LiveServer | TcpProxy, key: str) -> AsyncWhetstone:
    url = server.url if isinstance(server, TcpProxy) else server.http
    return AsyncWhetstone(url, key, reconnect=FAST, trust_env=False)


async def test_pause_resume_cancel_reach_an_open_subscription(
    running_server: LiveServer, key: str, api: Api, gates: Gates
) -> None:
    job_id = await job(api, 10)
    rec = Recorder()
    async with client_of(running_server, key) as client:
        sub = client.optimization.subscribe(job_id, after_event_id=0, **rec.callbacks())
        await gates.release()
        await rec.until(lambda: any(isinstance(e, IterationComplete) for e in rec.events))
        with pytest.raises(InvalidTransition):
            await client.optimization.resume(job_id)  # 409: it is running
        await client.optimization.pause(job_id, reason="lunch")
        await gates.release()  # the pause lands at the next step boundary
        await rec.until(lambda: isinstance(rec.events[-1], JobPaused))
        assert (await client.optimization.get(job_id)).status == "paused"
        resumed = await client.optimization.resume(job_id)
        assert resumed.status == "running"
        await rec.until(lambda: isinstance(rec.events[-1], JobResumed))
        await client.optimization.cancel(job_id, reason="enough")
        await gates.release(10)
        results = await sub.wait()
        await rec.closed()
    paused = next(e for e in rec.events if isinstance(e, JobPaused))
    assert paused.reason == "lunch"
    end = rec.events[-1]
    assert isinstance(end, JobCancelled)
    assert end.reason == "enough"
    assert results is not None
    assert results.status == "cancelled"
    assert results.stop_reason == "cancelled"
    assert rec.results == [results]
    assert rec.errors == []
    assert rec.ids == list(range(1, len(rec.ids) + 1))


async def test_a_failing_job_ends_in_on_error(
    running_server: LiveServer, key: str, api: Api, gates: Gates
) -> None:
    gates.fail_at = 2
    job_id = await job(api, 5)
    rec = Recorder()
    await gates.release(5)
    async with client_of(running_server, key) as client:
        sub = client.optimization.subscribe(job_id, after_event_id=0, **rec.callbacks())
        with pytest.raises(JobFailedError) as caught:
            await sub.wait()
        await rec.closed()
        job_after = await client.optimization.get(job_id)
    assert isinstance(rec.events[-1], JobFailed)
    assert isinstance(caught.value.error, InternalError)
    assert "the engine broke" in str(caught.value)
    assert rec.errors == [caught.value]
    assert rec.results == []
    assert job_after.status == "failed"
    assert job_after.is_terminal


async def test_a_wrong_key_is_refused_without_retrying(
    proxy: TcpProxy, api: Api, gates: Gates
) -> None:
    job_id = await job(api, 1)
    rec = Recorder()
    async with client_of(proxy, "wst_000000000000_not-a-key") as client:
        with pytest.raises(Unauthorized, match="key"):
            await client.prompts.list()
        sub = client.optimization.subscribe(job_id, after_event_id=0, **rec.callbacks())
        with pytest.raises(Unauthorized):
            await sub.wait()
    assert proxy.accepted == 2  # the REST call, then one WebSocket; no retry
    assert rec.states == ["connecting", "closed"]


@pytest.mark.parametrize("after", [0, None], ids=["websocket", "live-only via REST"])
async def test_an_unknown_job_is_refused_without_retrying(
    proxy: TcpProxy, key: str, after: int | None
) -> None:
    rec = Recorder()
    async with client_of(proxy, key) as client:
        sub = client.optimization.subscribe("job_nope", after_event_id=after, **rec.callbacks())
        with pytest.raises(NotFound):
            await sub.wait()
        await rec.closed()
    assert [type(e) for e in rec.errors] == [NotFound]
    assert proxy.accepted == 1


async def test_stream_reads_a_whole_job_through_cuts(
    proxy: TcpProxy, key: str, api: Api, gates: Gates
) -> None:
    job_id = await job(api, 4)
    async with client_of(proxy, key) as client:
        stream = client.optimization.stream(job_id, after_event_id=0)
        got = []
        async for event in stream:
            got.append(event)
            if event.type in ("job_started", "iteration_complete"):
                proxy.cut()
                await gates.release()
        assert stream.last_event_id == got[-1].id
    assert [e.id for e in got] == [e["id"] for e in await api.events(job_id)]
    assert got[-1].type == "job_complete"


async def test_a_live_only_subscription_gets_what_follows_its_start(
    running_server: LiveServer, key: str, api: Api, gates: Gates
) -> None:
    job_id = await job(api, 3)
    async with client_of(running_server, key) as client:
        first = Recorder()
        sub = client.optimization.subscribe(job_id, after_event_id=0, **first.callbacks())
        await gates.release()
        await first.event_count(3)
        late = Recorder()
        later = client.optimization.subscribe(job_id, **late.callbacks())
        await late.until(lambda: "connected" in late.states)
        await gates.release(2)
        await sub.wait()
        await later.wait()
    assert late.ids == first.ids[3:]
    assert len(late.results) == 1
