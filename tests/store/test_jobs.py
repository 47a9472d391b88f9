"""Jobs: creation, and the one atomic write of events + state (ids, fencing, rollback)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import StatementError

from whetstone.clock import ManualClock
from whetstone.domain.dataset import Dataset
from whetstone.domain.job import Job, Progress, Workspace
from whetstone.domain.prompt import Prompt
from whetstone.domain.status import JobStatus
from whetstone.domain.usage import Usage
from whetstone.errors import InvalidTransition, LeaseLost, NotFound
from whetstone.store.base import Checkpoint, JobUpdate
from whetstone.store.sql import SQLStore

from .helpers import claim, iteration_events, start_running, stored_ids


async def test_create_is_queued_with_no_events(
    store: SQLStore,
    ws: Workspace,
    prompt: Prompt,
    dataset: Dataset,
    job: Job,
    config: dict[str, Any],
) -> None:
    assert (job.status, job.last_event_id, job.current_iteration) == (JobStatus.QUEUED, 0, 0)
    assert (job.workspace_id, job.prompt_id, job.dataset_id, job.config) == (
        ws.id,
        prompt.id,
        dataset.id,
        config,
    )
    assert (job.lease_owner, job.pending_action, job.result_prompt_id) == (None, None, None)
    assert (job.started_at, job.finished_at, job.usage) == (None, None, Usage())
    assert await store.jobs.get(ws.id, job.id) == job
    assert await store.jobs.get_any(job.id) == job
    assert await stored_ids(store, job.id) == []


async def test_other_workspace_gets_not_found(
    store: SQLStore, other_ws: Workspace, job: Job
) -> None:
    with pytest.raises(NotFound):
        await store.jobs.get(other_ws.id, job.id)
    with pytest.raises(NotFound):
        await store.jobs.get_any("job_missing")
    assert (await store.jobs.page(other_ws.id, status=None, limit=10, offset=0)).total == 0


async def test_page_newest_first_and_by_status(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    made = [await store.jobs.create(ws.id, prompt.id, dataset.id, {}) for _ in range(4)]
    await start_running(store, clock, made[0], "r")
    page = await store.jobs.page(ws.id, status=None, limit=3, offset=0)
    assert [j.id for j in page.items] == [j.id for j in reversed(made)][:3]
    assert (page.total, page.has_more) == (4, True)
    queued = await store.jobs.page(ws.id, status=JobStatus.QUEUED, limit=10, offset=0)
    assert [j.id for j in queued.items] == [j.id for j in reversed(made[1:])]
    running = await store.jobs.page(ws.id, status=JobStatus.RUNNING, limit=10, offset=0)
    assert [j.id for j in running.items] == [made[0].id]


async def test_write_assigns_ids_without_gaps(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    expected_next = 1
    for n in (1, 3, 0, 5, 2, 1):
        written = await store.jobs.write(job.id, iteration_events(clock, n), JobUpdate())
        assert [e.id for e in written] == list(range(expected_next, expected_next + n))
        assert {e.job_id for e in written} == ({job.id} if n else set())
        expected_next += n
    assert (await store.jobs.get_any(job.id)).last_event_id == 12
    assert await stored_ids(store, job.id) == list(range(1, 13))


async def test_concurrent_writes_get_exactly_one_to_n(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    sizes = [1 + i % 4 for i in range(60)]
    batches = [iteration_events(clock, n) for n in sizes]
    results = await asyncio.gather(
        *(store.jobs.write(job.id, batch, JobUpdate()) for batch in batches)
    )
    total = sum(sizes)
    ids = [e.id for written in results for e in written]
    assert sorted(ids) == list(range(1, total + 1))
    for written, n in zip(results, sizes, strict=True):
        assert len(written) == n
        assert [e.id for e in written] == list(range(written[0].id, written[0].id + n))
    assert (await store.jobs.get_any(job.id)).last_event_id == total
    assert await stored_ids(store, job.id) == list(range(1, total + 1))


async def test_ids_are_per_job(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    a = await store.jobs.create(ws.id, prompt.id, dataset.id, {})
    b = await store.jobs.create(ws.id, prompt.id, dataset.id, {})
    await asyncio.gather(
        *(store.jobs.write(j.id, iteration_events(clock, 2), JobUpdate()) for j in [a, b, a, b])
    )
    assert await stored_ids(store, a.id) == [1, 2, 3, 4]
    assert await stored_ids(store, b.id) == [1, 2, 3, 4]


async def test_write_applies_the_update(store: SQLStore, clock: ManualClock, job: Job) -> None:
    usage = Usage(llm_calls=3, input_tokens=10, output_tokens=5, cost_usd=0.25)
    progress = Progress(2, 0.5, 0.7, 0.75, usage)
    started = clock.now()
    update = JobUpdate(status=JobStatus.RUNNING, progress=progress, started_at=started)
    await store.jobs.write(job.id, iteration_events(clock, 1), update)
    got = await store.jobs.get_any(job.id)
    assert (got.status, got.current_iteration, got.usage) == (JobStatus.RUNNING, 2, usage)
    assert (got.initial_score, got.current_score, got.best_score) == (0.5, 0.7, 0.75)
    assert (got.started_at, got.last_event_id) == (started, 1)


async def _assert_untouched(store: SQLStore, before: Job) -> None:
    assert await store.jobs.get_any(before.id) == before
    assert await stored_ids(store, before.id) == list(range(1, before.last_event_id + 1))


async def test_write_with_wrong_owner_is_lease_lost(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    running = await start_running(store, clock, job, "runner-a")
    await store.jobs.write(job.id, iteration_events(clock, 2), JobUpdate(), owner="runner-a")
    before = await store.jobs.get_any(job.id)
    assert (running.lease_owner, before.last_event_id) == ("runner-a", 2)
    update = JobUpdate(status=JobStatus.COMPLETED, checkpoint=Checkpoint(1, {}, {}))
    with pytest.raises(LeaseLost):
        await store.jobs.write(job.id, iteration_events(clock, 3), update, owner="runner-b")
    await _assert_untouched(store, before)
    assert await store.jobs.checkpoint(job.id) is None


async def test_write_with_owner_on_unleased_job_is_lease_lost(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    with pytest.raises(LeaseLost):
        await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate(), owner="anyone")
    await _assert_untouched(store, job)


async def test_expect_status_mismatch_writes_nothing(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    update = JobUpdate(status=JobStatus.CANCELLED, stop_reason="cancelled")
    with pytest.raises(InvalidTransition):
        await store.jobs.write(
            job.id,
            iteration_events(clock, 2),
            update,
            expect_status=frozenset({JobStatus.RUNNING, JobStatus.PAUSED}),
        )
    await _assert_untouched(store, job)
    ok = frozenset({JobStatus.QUEUED})
    written = await store.jobs.write(job.id, iteration_events(clock, 1), update, expect_status=ok)
    assert [e.id for e in written] == [1]


async def test_unleased_guard_refuses_a_live_lease(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await claim(store, clock, "runner-a")
    before = await store.jobs.get_any(job.id)
    with pytest.raises(InvalidTransition):
        await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate(), unleased=True)
    await _assert_untouched(store, before)


async def test_failed_write_rolls_back_events_and_counter(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    good = Checkpoint(1, {"front": [1, 2]}, {"best": 0.5})
    await store.jobs.write(job.id, iteration_events(clock, 2), JobUpdate(checkpoint=good))
    before = await store.jobs.get_any(job.id)
    bad = JobUpdate(
        status=JobStatus.RUNNING,
        progress=Progress(5, 0.1, 0.2, 0.3, Usage(llm_calls=9)),
        checkpoint=Checkpoint(2, {"unserialisable": object()}, {}),
    )
    with pytest.raises(StatementError, match="not JSON serializable"):
        await store.jobs.write(job.id, iteration_events(clock, 4), bad)
    await _assert_untouched(store, before)
    assert await store.jobs.checkpoint(job.id) == good
    written = await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate())
    assert [e.id for e in written] == [3]


async def test_checkpoint_upsert(store: SQLStore, clock: ManualClock, job: Job) -> None:
    assert await store.jobs.checkpoint(job.id) is None
    first = Checkpoint(1, {"candidates": ["a"], "n": 1}, {"best": 0.1})
    await store.jobs.write(job.id, [], JobUpdate(checkpoint=first))
    assert await store.jobs.checkpoint(job.id) == first
    second = Checkpoint(2, {"candidates": ["a", "b"], "nested": {"x": [1.5]}}, {"best": 0.2})
    await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate(checkpoint=second))
    assert await store.jobs.checkpoint(job.id) == second
    await store.jobs.write(job.id, [], JobUpdate())
    assert await store.jobs.checkpoint(job.id) == second


async def test_checkpoints_are_per_job(
    store: SQLStore, ws: Workspace, prompt: Prompt, dataset: Dataset, job: Job
) -> None:
    other = await store.jobs.create(ws.id, prompt.id, dataset.id, {})
    await store.jobs.write(job.id, [], JobUpdate(checkpoint=Checkpoint(3, {"a": 1}, {})))
    assert await store.jobs.checkpoint(other.id) is None
