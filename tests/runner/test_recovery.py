"""Crashes and leases: a job whose runner died mid-run is taken over once its lease expires
(at once by a restart of the same node) and resumes from its checkpoint; a runner that lost
its lease writes nothing more."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.runner.helpers import (
    Gate,
    Steps,
    assert_contiguous,
    runner_of,
    stop_within,
    trace,
    uninterrupted,
    until_terminal,
)
from tests.support.api import Api
from whetstone.clock import ManualClock
from whetstone.domain.status import JobStatus
from whetstone.engine.base import EngineFactory, JobContext
from whetstone.errors import LeaseLost
from whetstone.runner.runner import JobRunner
from whetstone.server.services import Services
from whetstone.store.base import JobUpdate

ITERATIONS = 4
LEASE = 30.0
CONFIG = {"maxIterations": ITERATIONS, "dryRun": True}


async def crash_at(
    services: Services,
    factory: EngineFactory,
    clock: ManualClock,
    steps: Steps,
    job_id: str,
    k: int,
    node_id: str = "nodeA",
) -> JobRunner:
    """Run ``job_id`` on a runner of ``node_id`` and kill it while it computes step ``k``:
    steps 1…k-1 are written, the job stays running and leased to the dead runner."""
    runner = JobRunner(
        services.store, services.bus, factory, clock=clock, node_id=node_id, lease_seconds=LEASE
    )
    gate = Gate()
    steps.at(k, gate, job_id)
    task = asyncio.create_task(runner.run_until_idle())
    await gate.wait_reached()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    job = await services.store.jobs.get_any(job_id)
    assert job.status is JobStatus.RUNNING
    assert job.lease_owner == runner.owner
    assert job.current_iteration == k - 1
    return runner


async def test_crashed_job_is_taken_over_after_lease_expiry_and_resumes(
    api: Api,
    services: Services,
    steps: Steps,
    clock: ManualClock,
    engine_factory: EngineFactory,
) -> None:
    k = 3
    job = await api.job(CONFIG)
    await crash_at(services, engine_factory, clock, steps, job["id"], k)
    before = await api.events(job["id"])
    assert trace(before) == uninterrupted(ITERATIONS)[: 1 + 2 * (k - 1)]

    other = runner_of(services)
    assert await other.run_until_idle() == 0  # the lease still holds
    clock.advance(LEASE - 1)
    assert await other.run_until_idle() == 0
    clock.advance(2)
    assert await other.run_until_idle() == 1

    events = await api.events(job["id"])
    assert_contiguous(events)
    assert trace(events) == uninterrupted(ITERATIONS)  # no gap, no repeated iteration
    # step k was computed twice (the dead runner never wrote it), every other step once
    assert steps.iterations(job["id"]) == [*range(1, k + 1), *range(k, ITERATIONS + 1)]
    done = await services.store.jobs.get_any(job["id"])
    assert done.status is JobStatus.COMPLETED
    assert done.stop_reason == "max_iterations"
    assert done.lease_owner is None
    checkpoint = await services.store.jobs.checkpoint(job["id"])
    assert checkpoint is not None
    assert checkpoint.step == ITERATIONS


async def test_restart_of_the_same_node_takes_its_jobs_over_at_once(
    api: Api,
    services: Services,
    steps: Steps,
    clock: ManualClock,
    engine_factory: EngineFactory,
) -> None:
    k = 2
    job = await api.job(CONFIG)
    await crash_at(services, engine_factory, clock, steps, job["id"], k)
    assert await runner_of(services).run_until_idle() == 0

    restarted = JobRunner(
        services.store,
        services.bus,
        engine_factory,
        clock=clock,
        node_id="nodeA",
        lease_seconds=LEASE,
    )
    sub = services.bus.subscribe(job["id"])
    try:
        await restarted.start()  # frees this node's leases, then claims in the background
        assert await until_terminal(sub) == "JobComplete"
    finally:
        sub.close()
        await stop_within(restarted)  # whether stop() hangs is test_background's concern

    events = await api.events(job["id"])
    assert_contiguous(events)
    assert trace(events) == uninterrupted(ITERATIONS)
    assert steps.iterations(job["id"]) == [*range(1, k + 1), *range(k, ITERATIONS + 1)]
    done = await services.store.jobs.get_any(job["id"])
    assert done.status is JobStatus.COMPLETED
    assert done.lease_owner is None


async def test_restart_frees_only_its_own_nodes_leases(
    api: Api,
    services: Services,
    steps: Steps,
    clock: ManualClock,
    engine_factory: EngineFactory,
) -> None:
    job = await api.job(CONFIG)
    crashed = await crash_at(services, engine_factory, clock, steps, job["id"], 2, "nodeAB")
    restarted = JobRunner(
        services.store, services.bus, engine_factory, clock=clock, node_id="nodeA"
    )
    await restarted.start()
    await restarted.stop()
    job_now = await services.store.jobs.get_any(job["id"])
    assert job_now.lease_owner == crashed.owner
    assert await runner_of(services).run_until_idle() == 0


async def test_runner_that_lost_its_lease_writes_nothing_more(
    api: Api, services: Services, steps: Steps, clock: ManualClock
) -> None:
    k = 2
    job = await api.job(CONFIG)
    runner = runner_of(services)
    thief = "nodeT:run_thief"

    async def steal(ctx: JobContext, iteration: int) -> None:
        clock.advance(LEASE + 1)  # the runner stalled past its lease
        now = clock.now()
        stolen = await services.store.jobs.claim(thief, now, now + timedelta(seconds=LEASE))
        assert stolen is not None
        assert stolen.id == ctx.job.id

    steps.at(k, steal, job["id"])
    assert await runner.run_until_idle() == 1

    events = await api.events(job["id"])
    assert trace(events) == uninterrupted(ITERATIONS)[: 1 + 2 * (k - 1)]  # step k not written
    stolen = await services.store.jobs.get_any(job["id"])
    assert stolen.status is JobStatus.RUNNING
    assert stolen.lease_owner == thief
    assert stolen.error is None
    assert steps.iterations(job["id"]) == [1, 2]  # it stopped at once
    with pytest.raises(LeaseLost):
        await services.store.jobs.write(job["id"], [], JobUpdate(), owner=runner.owner)
    assert await api.events(job["id"], after=len(events)) == []

    clock.advance(LEASE + 1)  # the thief died too
    assert await runner.run_until_idle() == 1
    final = await api.events(job["id"])
    assert_contiguous(final)
    assert trace(final) == uninterrupted(ITERATIONS)
