"""Exactly once, in order: duplicates dropped, gaps filled from the REST log, the terminal
event ending the subscription with one ``on_complete`` or ``on_error``. Against a scripted
WebSocket server (``fakes.py``)."""

from __future__ import annotations

import pytest

from tests.sdk.fakes import JOB, Conn, FakeRest, fake_ws, sdk, wire_event
from tests.sdk.support import Recorder
from whetstone.errors import ProviderError
from whetstone.sdk import (
    EvaluationComplete,
    Event,
    IterationStart,
    JobComplete,
    JobFailedError,
)


async def test_a_gap_is_filled_from_the_log_before_the_event() -> None:
    rest = FakeRest(log=[wire_event(i) for i in range(1, 7)])

    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 5)  # 3 and 4 missing
        await conn.events(2, 4)  # duplicates
        await conn.events(6, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url, rest) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        results = await sub.wait()
        await rec.closed()
    assert rec.ids == [1, 2, 3, 4, 5, 6]
    assert [r.url.params["afterEventId"] for r in rest.requests] == ["2"]
    assert rest.requests[0].url.params["limit"] == "2"
    assert rec.results == [results]
    assert results is not None
    assert results.final_score == 0.75
    assert rec.errors == []
    assert rec.states == ["connecting", "connected", "closed"]
    assert ws.subscribes == [{"type": "subscribe", "jobId": JOB, "afterEventId": 0}]


async def test_replay_and_live_overlap_without_duplicates() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.replay(1, 2, has_more=True)
        await conn.replay(3)
        await conn.events(2, 3, 4)
        await conn.events(5, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()).wait()
    assert rec.ids == [1, 2, 3, 4, 5]
    assert isinstance(rec.events[-1], JobComplete)


async def test_resuming_after_an_id_skips_what_came_before() -> None:
    async def script(conn: Conn) -> None:
        frame = await conn.handshake(head=5)
        assert frame["afterEventId"] == 3
        await conn.events(3, 4, 5, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        await client.optimization.subscribe(JOB, after_event_id=3, **rec.callbacks()).wait()
    assert rec.ids == [4, 5]


async def test_events_are_typed_and_flat_and_unknown_ones_still_arrive() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.send({"type": "event", "jobId": JOB, "event": wire_event(1, "iteration_start")})
        scored = wire_event(
            2,
            "evaluation_complete",
            candidateId="cand_1",
            score=0.5,
            metrics={"exact_match": 0.5},
            usage={"llmCalls": 2, "inputTokens": 7, "outputTokens": 3, "costUsd": 0.01},
            newField=True,
        )
        await conn.send({"type": "event", "jobId": JOB, "event": scored})
        await conn.send({"type": "something_new", "jobId": JOB})  # a newer server's frame
        future = wire_event(3, "candidate_pruned", candidateId="cand_1")
        await conn.send({"type": "event", "jobId": JOB, "event": future})
        await conn.events(4, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()).wait()
    started, scored, pruned, _ = rec.events
    assert isinstance(started, IterationStart)
    assert started.type == "iteration_start"
    assert started.job_id == JOB
    assert isinstance(scored, EvaluationComplete)
    assert (scored.candidate_id, scored.score, scored.metrics) == (
        "cand_1",
        0.5,
        {"exact_match": 0.5},
    )
    assert scored.usage is not None
    assert scored.usage.llm_calls == 2
    assert scored.data["newField"] is True
    assert type(pruned) is Event
    assert pruned.type == "candidate_pruned"
    assert pruned.data == {"candidateId": "cand_1"}


async def test_a_failed_job_goes_to_on_error_with_its_error_class() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1)
        error = {"code": "provider_error", "message": "no OPENAI_API_KEY"}
        failed = wire_event(2, "job_failed", error=error, willRetry=False)
        await conn.send({"type": "event", "jobId": JOB, "event": failed})
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        with pytest.raises(JobFailedError) as caught:
            await sub.wait()
        await rec.closed()
    assert rec.ids == [1, 2]
    assert rec.results == []
    assert rec.errors == [caught.value]
    assert isinstance(caught.value.error, ProviderError)
    assert caught.value.error.message == "no OPENAI_API_KEY"
    assert caught.value.job_id == JOB


async def test_a_cancelled_job_completes_with_the_results_read_over_rest() -> None:
    rest = FakeRest(status="cancelled")

    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, last="job_cancelled")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url, rest) as client:
        results = await client.optimization.subscribe(
            JOB, after_event_id=0, **rec.callbacks()
        ).wait()
        await rec.closed()
    assert results is not None
    assert results.status == "cancelled"
    assert rec.results == [results]
    assert rest.paths() == [f"/api/optimizations/{JOB}/results"]


async def test_an_exception_in_on_event_ends_the_subscription() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 3)
        await conn.idle()

    rec = Recorder()

    async def on_event(event: Event) -> None:
        await rec.on_event(event)
        if event.id == 2:
            raise ValueError("bad handler")

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        callbacks = {**rec.callbacks(), "on_event": on_event}
        sub = client.optimization.subscribe(JOB, after_event_id=0, **callbacks)
        with pytest.raises(ValueError, match="bad handler"):
            await sub.wait()
        await rec.closed()
    assert rec.ids == [1, 2]
    assert [type(e) for e in rec.errors] == [ValueError]
    assert ws.connections == 1


async def test_unsubscribe_inside_on_event_stops_delivery_at_once() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 3, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:

        def on_event(event: Event) -> None:  # a plain function works too
            rec.events.append(event)
            if event.id == 1:
                sub.unsubscribe()

        callbacks = {**rec.callbacks(), "on_event": on_event}
        sub = client.optimization.subscribe(JOB, after_event_id=0, **callbacks)
        assert await sub.wait() is None
        await rec.closed()
    assert rec.ids == [1]
    assert rec.results == []
    assert rec.errors == []
    assert rec.states[-1] == "closed"


async def test_an_exception_in_on_complete_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, last="job_complete")
        await conn.idle()

    def on_complete(results: object) -> None:
        raise RuntimeError("bad completion handler")

    async with fake_ws(script) as ws, sdk(ws.url) as client:
        sub = client.optimization.subscribe(
            JOB, lambda e: None, on_complete=on_complete, after_event_id=0
        )
        results = await sub.wait()
    assert results is not None
    assert "subscription callback failed" in caplog.text
    assert "bad completion handler" in caplog.text
