"""Cancelling a job: while it runs (honoured at the next step boundary), while it is paused
(at once), while it is queued (it never starts)."""

from __future__ import annotations

from datetime import timedelta

from tests.runner.helpers import Steps, assert_contiguous, runner_of, trace, uninterrupted
from tests.support.api import Api
from whetstone.domain.status import JobAction, JobStatus
from whetstone.engine.base import EngineFactory, JobContext
from whetstone.runner.execution import JobExecution
from whetstone.server.services import Services

CONFIG = {"maxIterations": 4, "dryRun": True}


async def test_cancel_while_running_ends_at_the_next_step_boundary(
    api: Api, services: Services, steps: Steps
) -> None:
    k = 2
    job = await api.job(CONFIG)

    async def cancel(ctx: JobContext, iteration: int) -> None:
        await services.store.jobs.request(
            ctx.job.workspace_id, ctx.job.id, JobAction.CANCEL, "changed my mind"
        )

    steps.at(k, cancel, job["id"])
    assert await runner_of(services).run_until_idle() == 1

    events = await api.events(job["id"])
    assert trace(events) == [*uninterrupted(4)[: 1 + 2 * k], ("job_cancelled", k)]
    assert events[-1]["data"] == {"reason": "changed my mind"}
    assert_contiguous(events)
    assert steps.iterations(job["id"]) == [1, 2]  # no step after the cancel
    done = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert done["status"] == "cancelled"
    assert done["stopReason"] == "cancelled"
    assert done["currentIteration"] == k
    assert done["finishedAt"] is not None
    assert done["pendingAction"] is None
    stored = await services.store.jobs.get_any(job["id"])
    assert stored.lease_owner is None
    assert await runner_of(services).run_until_idle() == 0
    assert await api.events(job["id"], after=len(events)) == []
    results = (await api.call("GET", f"/api/optimizations/{job['id']}/results"))["data"]
    assert results["status"] == "cancelled"
    assert results["stopReason"] == "cancelled"
    assert results["iterations"] == k


async def test_cancel_while_paused_is_immediate_and_keeps_the_best_prompt(
    api: Api, services: Services, steps: Steps
) -> None:
    template = "Think, then answer: {question}"
    prompt = await api.prompt(template)
    dataset = await api.dataset()
    body = {"promptId": prompt["id"], "datasetId": dataset["id"], "config": CONFIG}
    job = (await api.call("POST", "/api/optimizations", 201, json=body))["data"]

    async def pause(ctx: JobContext, iteration: int) -> None:
        await services.store.jobs.request(ctx.job.workspace_id, ctx.job.id, JobAction.PAUSE, None)

    steps.at(1, pause, job["id"])
    await runner_of(services).run_until_idle()
    paused_events = await api.events(job["id"])
    assert trace(paused_events)[-1] == ("job_paused", 1)

    path = f"/api/optimizations/{job['id']}"
    cancelled = (await api.call("POST", f"{path}/cancel", json={"reason": "enough"}))["data"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["stopReason"] == "cancelled"
    assert cancelled["finishedAt"] is not None
    new = await api.events(job["id"], after=len(paused_events))
    assert trace(new) == [("job_cancelled", 1)]
    assert new[0]["data"] == {"reason": "enough"}
    assert await runner_of(services).run_until_idle() == 0
    assert steps.iterations(job["id"]) == [1]

    results = (await api.call("GET", f"{path}/results"))["data"]
    assert results["status"] == "cancelled"
    assert results["stopReason"] == "cancelled"
    assert results["bestPrompt"]["template"] == template
    assert results["iterations"] == 1
    await api.call("POST", f"{path}/resume", 409)


async def test_cancel_of_a_queued_job_means_it_never_starts(
    api: Api, services: Services, steps: Steps
) -> None:
    job = await api.job(CONFIG)
    path = f"/api/optimizations/{job['id']}"
    cancelled = (await api.call("POST", f"{path}/cancel"))["data"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["startedAt"] is None
    assert await runner_of(services).run_until_idle() == 0
    assert steps.seen == []
    events = await api.events(job["id"])
    assert trace(events) == [("job_cancelled", 0)]
    assert events[0]["id"] == 1
    assert events[0]["data"] == {"reason": None}
    results = (await api.call("GET", f"{path}/results"))["data"]
    assert results["status"] == "cancelled"
    prompt = (await api.call("GET", f"/api/prompts/{job['promptId']}"))["data"]
    assert results["bestPrompt"]["template"] == prompt["template"]


async def test_cancel_of_a_claimed_job_before_it_begins_writes_only_job_cancelled(
    api: Api, services: Services, steps: Steps, engine_factory: EngineFactory
) -> None:
    job = await api.job(CONFIG)
    owner = "nodeX:run_claimed"
    now = services.clock.now()
    claimed = await services.store.jobs.claim(owner, now, now + timedelta(seconds=30))
    assert claimed is not None
    assert claimed.id == job["id"]

    pending = (await api.call("POST", f"/api/optimizations/{job['id']}/cancel"))["data"]
    assert pending["status"] == "queued"  # a runner holds it: the request waits for it
    assert pending["pendingAction"] == "cancel"

    queued = await services.store.jobs.get_any(job["id"])
    execution = JobExecution(
        services.store, services.bus, engine_factory, services.clock, owner, queued
    )
    await execution.run()
    events = await api.events(job["id"])
    assert trace(events) == [("job_cancelled", 0)]
    done = await services.store.jobs.get_any(job["id"])
    assert done.status is JobStatus.CANCELLED
    assert done.started_at is None
    assert done.lease_owner is None
    assert steps.seen == []
