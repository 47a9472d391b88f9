"""The event log: read by id, in order, as the exact JSON each event was written with."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from whetstone.clock import ManualClock
from whetstone.domain.codec import event_from_wire, event_to_wire
from whetstone.domain.events import (
    EvaluationComplete,
    EventPayload,
    JobComplete,
    JobStarted,
    MutationGenerated,
    NewBest,
    PendingEvent,
)
from whetstone.domain.job import Job
from whetstone.domain.usage import Usage
from whetstone.store.base import JobUpdate
from whetstone.store.sql import SQLStore

from .helpers import iteration_events


def _mixed(clock: ManualClock, job: Job) -> list[PendingEvent]:
    ts = clock.now()
    payloads: list[tuple[int, EventPayload]] = [
        (0, JobStarted(job.id, ts, job.prompt_id, job.dataset_id, {"maxIterations": 3})),
        (1, MutationGenerated("c1", ["c0"], "reflective", "Be brief…", {"template": "x {y}"})),
        (1, EvaluationComplete(1, "c1", 0.75, {"exact": 0.75}, Usage(2, 30, 40, 0.001))),
        (1, NewBest("c1", 0.75, 0.5, 0.25, {"template": "x {y}"})),
        (1, JobComplete({"finalScore": 0.75, "history": [{"iteration": 1}], "ü": "✓"})),
    ]
    return [PendingEvent.of(p, iteration=i, timestamp=clock.now()) for i, p in payloads]


async def test_empty_log(store: SQLStore, job: Job) -> None:
    page = await store.events.after(job.id, 0, 10)
    assert (page.bodies, page.head_event_id, page.has_more) == ([], 0, False)


async def test_unknown_job_is_an_empty_page(store: SQLStore) -> None:
    page = await store.events.after("job_missing", 0, 10)
    assert (page.bodies, page.head_event_id, page.has_more) == ([], 0, False)


async def test_bodies_equal_the_wire_form_of_what_was_written(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    written = await store.jobs.write(job.id, _mixed(clock, job), JobUpdate())
    page = await store.events.after(job.id, 0, 100)
    assert [json.loads(b) for b in page.bodies] == [event_to_wire(e.event) for e in written]
    assert page.bodies == [e.body for e in written]
    assert [event_from_wire(json.loads(b)) for b in page.bodies] == [e.event for e in written]
    assert (page.head_event_id, page.has_more) == (5, False)


async def test_wire_fields(store: SQLStore, job: Job) -> None:
    ts = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    started = JobStarted(job.id, ts, job.prompt_id, job.dataset_id, {"maxIterations": 3})
    event = PendingEvent.of(started, iteration=0, timestamp=ts)
    written = await store.jobs.write(job.id, [event], JobUpdate())
    (body,) = (await store.events.after(job.id, 0, 10)).bodies
    wire = json.loads(body)
    assert wire["id"] == written[0].id == 1
    assert (wire["jobId"], wire["eventType"], wire["iteration"], wire["stage"]) == (
        job.id,
        "job_started",
        0,
        "baseline",
    )
    assert wire["timestamp"] == wire["data"]["timestamp"] == "2026-03-04T05:06:07.000890Z"
    assert wire["data"]["promptId"] == job.prompt_id
    assert wire["data"]["config"] == {"maxIterations": 3}


async def test_after_returns_ids_above_k_in_order(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    for n in (3, 4, 3):
        await store.jobs.write(job.id, iteration_events(clock, n), JobUpdate())
    for k in range(11):
        page = await store.events.after(job.id, k, 100)
        assert [json.loads(b)["id"] for b in page.bodies] == list(range(k + 1, 11))
        assert (page.head_event_id, page.has_more) == (10, False)


async def test_after_pages_with_limit_and_has_more(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await store.jobs.write(job.id, iteration_events(clock, 10), JobUpdate())
    cursor, seen, pages = 0, [], 0
    while True:
        page = await store.events.after(job.id, cursor, 3)
        ids = [json.loads(b)["id"] for b in page.bodies]
        assert len(ids) <= 3
        assert page.head_event_id == 10
        seen += ids
        pages += 1
        if not page.has_more:
            break
        assert len(ids) == 3
        cursor = ids[-1]
    assert (seen, pages) == (list(range(1, 11)), 4)
    exact = await store.events.after(job.id, 7, 3)
    assert ([json.loads(b)["id"] for b in exact.bodies], exact.has_more) == ([8, 9, 10], False)
    short = await store.events.after(job.id, 6, 3)
    assert short.has_more is True


async def test_logs_of_two_jobs_are_separate(store: SQLStore, clock: ManualClock, job: Job) -> None:
    other = await store.jobs.create(job.workspace_id, job.prompt_id, job.dataset_id, {})
    await store.jobs.write(job.id, iteration_events(clock, 3), JobUpdate())
    await store.jobs.write(other.id, iteration_events(clock, 1), JobUpdate())
    mine = await store.events.after(job.id, 0, 10)
    theirs = await store.events.after(other.id, 0, 10)
    assert {json.loads(b)["jobId"] for b in mine.bodies} == {job.id}
    assert [json.loads(b)["jobId"] for b in theirs.bodies] == [other.id]
    assert (mine.head_event_id, theirs.head_event_id) == (3, 1)
