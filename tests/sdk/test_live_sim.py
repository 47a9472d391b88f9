"""A real simulator run followed by the SDK through a proxy cut every few events: every event
type parses into its class with its fields, and the stream is the server's log exactly."""

from __future__ import annotations

import pytest

from tests.sdk.conftest import FAST
from tests.sdk.proxy import TcpProxy
from tests.sdk.support import Recorder
from tests.server.streaming.support import sim_job
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.sdk import (
    AsyncWhetstone,
    EvaluationComplete,
    EvaluationStart,
    Event,
    IterationComplete,
    IterationStart,
    JobComplete,
    JobStarted,
    MutationGenerated,
    NewBest,
)

CUT_EVERY = 7


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


async def test_a_simulated_run_through_repeated_cuts(proxy: TcpProxy, key: str, api: Api) -> None:
    job_id = await sim_job(api, 5)
    rec = Recorder()

    async def on_event(event: Event) -> None:
        await rec.on_event(event)
        if event.id % CUT_EVERY == 0:
            proxy.cut()

    async with AsyncWhetstone(proxy.url, key, reconnect=FAST, trust_env=False) as client:
        callbacks = {**rec.callbacks(), "on_event": on_event}
        results = await client.optimization.subscribe(job_id, after_event_id=0, **callbacks).wait()
        job = await client.optimization.get(job_id)
    log = await api.events(job_id)
    assert [e.id for e in rec.events] == [e["id"] for e in log] == list(range(1, len(log) + 1))
    assert len(log) > 2 * CUT_EVERY
    assert proxy.cuts >= len(log) // CUT_EVERY
    assert rec.states.count("connected") > len(log) // CUT_EVERY
    for event, wire in zip(rec.events, log, strict=True):
        assert event.type == wire["eventType"]
        assert type(event) is not Event, event.type  # every type has its class
        assert event.data == wire["data"]
    assert results is not None
    assert rec.results == [results]
    assert results.final_score == job.best_score
    assert results.simulated
    assert job.simulated


async def test_event_fields_are_flat_and_snake_case(
    running_server: LiveServer, key: str, api: Api
) -> None:
    job_id = await sim_job(api, 0)
    async with AsyncWhetstone(running_server.http, key, trust_env=False) as client:
        events = [e async for e in client.optimization.stream(job_id, after_event_id=0)]
    by_type: dict[type[Event], list[Event]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    started = by_type[JobStarted][0]
    assert isinstance(started, JobStarted)
    assert started.config["seed"] == 7
    mutation = next(e for e in by_type[MutationGenerated] if isinstance(e, MutationGenerated))
    assert mutation.mutation_type
    assert mutation.candidate_id
    assert mutation.parent_ids
    assert mutation.preview == mutation.data["preview"]
    evaluated = by_type[EvaluationComplete][0]
    assert isinstance(evaluated, EvaluationComplete)
    assert evaluated.candidate_id == "baseline"
    assert evaluated.score is not None
    assert evaluated.usage is not None
    assert evaluated.usage.llm_calls > 0
    assert isinstance(by_type[EvaluationStart][0], EvaluationStart)
    best = by_type[NewBest][0]
    assert isinstance(best, NewBest)
    assert best.prompt is not None
    assert best.score is not None
    assert IterationStart in by_type
    done = by_type[IterationComplete][-1]
    assert isinstance(done, IterationComplete)
    assert done.best_score is not None
    end = events[-1]
    assert isinstance(end, JobComplete)
    assert end.results is not None
    assert end.results.history
    assert end.results.best_prompt is not None
