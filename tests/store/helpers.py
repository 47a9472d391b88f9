"""Small builders shared by the job and event tests."""

from __future__ import annotations

import json
from datetime import timedelta

from whetstone.clock import ManualClock
from whetstone.domain.events import IterationStart, PendingEvent
from whetstone.domain.job import Job
from whetstone.domain.status import JobStatus
from whetstone.store.base import JobUpdate
from whetstone.store.sql import SQLStore

LEASE = timedelta(seconds=30)


def iteration_events(clock: ManualClock, n: int, *, first: int = 1) -> list[PendingEvent]:
    out = []
    for i in range(first, first + n):
        ts = clock.now()
        out.append(PendingEvent.of(IterationStart(i, ts), iteration=i, timestamp=ts))
    return out


async def stored_ids(store: SQLStore, job_id: str) -> list[int]:
    page = await store.events.after(job_id, 0, 1_000_000)
    return [json.loads(body)["id"] for body in page.bodies]


async def claim(store: SQLStore, clock: ManualClock, owner: str) -> Job | None:
    now = clock.now()
    return await store.jobs.claim(owner, now, now + LEASE)


async def start_running(store: SQLStore, clock: ManualClock, job: Job, owner: str) -> Job:
    """Claim ``job`` (it must be the oldest claimable one) and mark it running, as a runner does."""
    claimed = await claim(store, clock, owner)
    assert claimed is not None
    assert claimed.id == job.id
    update = JobUpdate(status=JobStatus.RUNNING, started_at=clock.now())
    await store.jobs.write(job.id, [], update, owner=owner)
    return await store.jobs.get_any(job.id)


async def pause(store: SQLStore, clock: ManualClock, job: Job, owner: str) -> Job:
    """Run ``job`` and pause it the way the runner does (status paused, lease cleared)."""
    await start_running(store, clock, job, owner)
    update = JobUpdate(status=JobStatus.PAUSED, clear_lease=True, clear_pending=True)
    await store.jobs.write(job.id, [], update, owner=owner)
    return await store.jobs.get_any(job.id)


async def set_status(store: SQLStore, job: Job, status: JobStatus) -> Job:
    await store.jobs.write(job.id, [], JobUpdate(status=status, clear_lease=True))
    return await store.jobs.get_any(job.id)
