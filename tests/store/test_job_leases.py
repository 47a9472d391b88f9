"""Leases: which job claim() takes, renew(), release_owned()."""

from __future__ import annotations

import pytest

from whetstone.clock import ManualClock
from whetstone.domain.dataset import Dataset
from whetstone.domain.job import Job, Workspace
from whetstone.domain.prompt import Prompt
from whetstone.domain.status import JobAction, JobStatus
from whetstone.errors import LeaseLost
from whetstone.store.base import JobUpdate
from whetstone.store.sql import SQLStore

from .helpers import LEASE, claim, iteration_events, pause, set_status, start_running


async def _jobs(store: SQLStore, ws: Workspace, prompt: Prompt, ds: Dataset, n: int) -> list[Job]:
    return [await store.jobs.create(ws.id, prompt.id, ds.id, {"n": i}) for i in range(n)]


async def test_claim_takes_queued_jobs_oldest_first(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    made = await _jobs(store, ws, prompt, dataset, 3)
    now = clock.now()
    claimed = [await store.jobs.claim(f"r{i}", now, now + LEASE) for i in range(3)]
    assert [j.id if j else None for j in claimed] == [j.id for j in made]
    assert [j.lease_owner if j else None for j in claimed] == ["r0", "r1", "r2"]
    assert {j.lease_expires_at if j else None for j in claimed} == {now + LEASE}
    assert {j.status if j else None for j in claimed} == {JobStatus.QUEUED}
    assert await store.jobs.claim("r3", now, now + LEASE) is None
    stored = await store.jobs.get_any(made[1].id)
    assert (stored.lease_owner, stored.lease_expires_at) == ("r1", now + LEASE)


async def test_claim_skips_a_live_lease(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    first, second = await _jobs(store, ws, prompt, dataset, 2)
    await start_running(store, clock, first, "runner-a")
    clock.advance(LEASE.total_seconds() - 1)
    taken = await claim(store, clock, "runner-b")
    assert taken is not None
    assert taken.id == second.id
    assert (await store.jobs.get_any(first.id)).lease_owner == "runner-a"


async def test_claim_takes_a_running_job_whose_lease_expired(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    assert await claim(store, clock, "runner-b") is None
    clock.advance(LEASE.total_seconds() + 1)
    taken = await claim(store, clock, "runner-b")
    assert taken is not None
    assert (taken.id, taken.status, taken.lease_owner) == (job.id, JobStatus.RUNNING, "runner-b")
    with pytest.raises(LeaseLost):
        await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate(), owner="runner-a")
    written = await store.jobs.write(
        job.id, iteration_events(clock, 1), JobUpdate(), owner="runner-b"
    )
    assert [e.id for e in written] == [1]


async def test_claim_takes_a_resumed_job(store: SQLStore, clock: ManualClock, job: Job) -> None:
    await pause(store, clock, job, "runner-a")
    assert await claim(store, clock, "runner-b") is None
    resumed = await store.jobs.request(job.workspace_id, job.id, JobAction.RESUME, None)
    assert (resumed.status, resumed.lease_owner) == (JobStatus.RUNNING, None)
    taken = await claim(store, clock, "runner-b")
    assert taken is not None
    assert (taken.id, taken.lease_owner) == (job.id, "runner-b")


@pytest.mark.parametrize(
    "status",
    [JobStatus.PAUSED, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED],
)
async def test_claim_never_takes_paused_or_terminal(
    store: SQLStore, clock: ManualClock, job: Job, status: JobStatus
) -> None:
    await set_status(store, job, status)
    assert await claim(store, clock, "runner") is None
    clock.advance(3600)
    assert await claim(store, clock, "runner") is None
    assert (await store.jobs.get_any(job.id)).lease_owner is None


async def test_claim_skips_paused_for_a_newer_queued_job(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    older, newer = await _jobs(store, ws, prompt, dataset, 2)
    await set_status(store, older, JobStatus.PAUSED)
    taken = await claim(store, clock, "r")
    assert taken is not None
    assert taken.id == newer.id


async def test_claim_on_empty_store(store: SQLStore, clock: ManualClock) -> None:
    assert await claim(store, clock, "r") is None


async def test_renew_only_for_the_owner(store: SQLStore, clock: ManualClock, job: Job) -> None:
    await claim(store, clock, "runner-a")
    later = clock.now() + 2 * LEASE
    assert await store.jobs.renew(job.id, "runner-b", later) is False
    assert (await store.jobs.get_any(job.id)).lease_expires_at != later
    assert await store.jobs.renew(job.id, "runner-a", later) is True
    stored = await store.jobs.get_any(job.id)
    assert (stored.lease_owner, stored.lease_expires_at) == ("runner-a", later)
    assert await store.jobs.renew("job_missing", "runner-a", later) is False


async def test_renew_keeps_an_old_lease_alive(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    clock.advance(LEASE.total_seconds() - 1)
    assert await store.jobs.renew(job.id, "runner-a", clock.now() + LEASE)
    clock.advance(LEASE.total_seconds() - 1)
    assert await claim(store, clock, "runner-b") is None


async def test_release_owned_frees_matching_leases_only(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, dataset: Dataset
) -> None:
    made = await _jobs(store, ws, prompt, dataset, 4)
    owners = ["node_1:a", "node_1:b", "nodeX1:c", "node_2:a"]
    for owner in owners:
        assert await claim(store, clock, owner) is not None
    assert await store.jobs.release_owned("node_1:") == 2
    after = [await store.jobs.get_any(j.id) for j in made]
    assert [j.lease_owner for j in after] == [None, None, "nodeX1:c", "node_2:a"]
    assert [j.lease_expires_at is None for j in after] == [True, True, False, False]
    assert await store.jobs.release_owned("node_1:") == 0
    assert await store.jobs.release_owned("node_2:a") == 1
    taken = await claim(store, clock, "node_3:a")
    assert taken is not None
    assert taken.id == made[0].id
