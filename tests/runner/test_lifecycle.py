"""A job's life under ``run_until_idle``: queued → running → completed, with its events,
counters and checkpoint; and the user's pause and resume at an exact iteration."""

from __future__ import annotations

from datetime import datetime

from tests.runner.helpers import (
    Steps,
    assert_contiguous,
    runner_of,
    trace,
    uninterrupted,
)
from tests.support.api import Api
from whetstone.domain.status import JobAction
from whetstone.engine.base import JobContext
from whetstone.server.services import Services

ITERATIONS = 4


def config(iterations: int = ITERATIONS) -> dict[str, object]:
    return {"maxIterations": iterations, "dryRun": True}


async def get_job(api: Api, job_id: str) -> dict[str, object]:
    data: dict[str, object] = (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]
    return data


async def test_job_runs_from_queued_to_completed(api: Api, services: Services) -> None:
    job = await api.job(config())
    assert job["status"] == "queued"
    assert job["startedAt"] is None
    assert job["lastEventId"] == 0

    assert await runner_of(services).run_until_idle() == 1

    done = await get_job(api, job["id"])
    events = await api.events(job["id"])
    assert trace(events) == uninterrupted(ITERATIONS)
    assert_contiguous(events)
    assert done["status"] == "completed"
    assert done["currentIteration"] == ITERATIONS
    assert done["stopReason"] == "max_iterations"
    assert done["lastEventId"] == len(events) == 2 * ITERATIONS + 2
    assert done["resultPromptId"] == job["promptId"]  # the placeholder keeps the prompt
    assert done["pendingAction"] is None
    started, finished = done["startedAt"], done["finishedAt"]
    assert isinstance(started, str)
    assert isinstance(finished, str)
    assert datetime.fromisoformat(job["createdAt"]) <= datetime.fromisoformat(started)
    assert datetime.fromisoformat(started) < datetime.fromisoformat(finished)
    checkpoint = await services.store.jobs.checkpoint(job["id"])
    assert checkpoint is not None
    assert checkpoint.step == ITERATIONS
    stored = await services.store.jobs.get_any(job["id"])
    assert stored.lease_owner is None
    assert stored.lease_expires_at is None


async def test_event_payloads_of_a_run(api: Api, services: Services) -> None:
    job = await api.job(config(2))
    await runner_of(services).run_until_idle()
    events = await api.events(job["id"])
    started, complete = events[0]["data"], events[-1]["data"]
    assert started["jobId"] == job["id"]
    assert started["promptId"] == job["promptId"]
    assert started["datasetId"] == job["datasetId"]
    assert started["config"] == job["config"]
    assert all(e["jobId"] == job["id"] for e in events)
    assert [e["data"]["iteration"] for e in events[1:-1]] == [1, 1, 2, 2]
    results = (await api.call("GET", f"/api/optimizations/{job['id']}/results"))["data"]
    assert complete["results"] == results
    assert results["status"] == "completed"
    assert results["iterations"] == 2
    assert results["resultPromptId"] == job["promptId"]
    assert [h["iteration"] for h in results["history"]] == [1, 2]


async def test_jobs_run_oldest_first_and_idle_runner_does_nothing(
    api: Api, services: Services, steps: Steps
) -> None:
    first = await api.job(config(1))
    second = await api.job(config(1))
    assert await runner_of(services).run_until_idle() == 2
    assert [job_id for job_id, _ in steps.seen] == [first["id"], second["id"]]
    assert await runner_of(services).run_until_idle() == 0


async def test_pause_at_iteration_then_resume_continues_from_checkpoint(
    api: Api, services: Services, steps: Steps
) -> None:
    k = 2
    runner = runner_of(services)
    reference = await api.job(config())
    await runner.run_until_idle()
    job = await api.job(config())

    async def pause(ctx: JobContext, iteration: int) -> None:
        await services.store.jobs.request(
            ctx.job.workspace_id, ctx.job.id, JobAction.PAUSE, "lunch break"
        )

    steps.at(k, pause, job["id"])
    assert await runner.run_until_idle() == 1

    paused = await get_job(api, job["id"])
    events = await api.events(job["id"])
    assert paused["status"] == "paused"
    assert paused["currentIteration"] == k
    assert paused["pendingAction"] is None
    assert paused["finishedAt"] is None
    assert trace(events) == [*uninterrupted(ITERATIONS)[: 1 + 2 * k], ("job_paused", k)]
    assert events[-1]["data"] == {"iteration": k, "reason": "lunch break"}
    stored = await services.store.jobs.get_any(job["id"])
    assert stored.lease_owner is None
    assert stored.lease_expires_at is None
    checkpoint = await services.store.jobs.checkpoint(job["id"])
    assert checkpoint is not None
    assert checkpoint.step == k
    assert await runner.run_until_idle() == 0  # a paused job is not claimable
    assert steps.iterations(job["id"]) == list(range(1, k + 1))
    await api.call("GET", f"/api/optimizations/{job['id']}/results", 409)

    resumed = (await api.call("POST", f"/api/optimizations/{job['id']}/resume"))["data"]
    assert resumed["status"] == "running"
    after_resume = await api.events(job["id"], after=len(events))
    assert trace(after_resume) == [("job_resumed", k)]
    assert after_resume[0]["data"] == {"iteration": k}

    assert await runner.run_until_idle() == 1
    assert steps.iterations(job["id"]) == list(range(1, ITERATIONS + 1))  # k+1…, not 1…
    final = await api.events(job["id"])
    assert_contiguous(final)
    expected = uninterrupted(ITERATIONS)
    expected[1 + 2 * k : 1 + 2 * k] = [("job_paused", k), ("job_resumed", k)]
    assert trace(final) == expected
    assert trace(await api.events(reference["id"])) == uninterrupted(ITERATIONS)

    done = await get_job(api, job["id"])
    assert done["status"] == "completed"
    assert done["stopReason"] == "max_iterations"
    assert done["resultPromptId"] == job["promptId"]
    results = (await api.call("GET", f"/api/optimizations/{job['id']}/results"))["data"]
    ref = (await api.call("GET", f"/api/optimizations/{reference['id']}/results"))["data"]
    for key in ("status", "bestPrompt", "iterations", "stopReason", "history", "usage"):
        assert results[key] == ref[key], key
    assert final[-1]["data"]["results"] == results


async def test_pause_requested_on_last_step_lets_the_job_complete(
    api: Api, services: Services, steps: Steps
) -> None:
    job = await api.job(config(2))

    async def pause(ctx: JobContext, iteration: int) -> None:
        await services.store.jobs.request(ctx.job.workspace_id, ctx.job.id, JobAction.PAUSE, None)

    steps.at(2, pause, job["id"])
    await runner_of(services).run_until_idle()
    done = await get_job(api, job["id"])
    assert done["status"] == "completed"
    assert done["pendingAction"] is None
    assert trace(await api.events(job["id"])) == uninterrupted(2)


async def test_pause_without_control_wait_answers_with_the_pending_request(
    api: Api, services: Services, steps: Steps
) -> None:
    job = await api.job(config())
    answers: list[dict[str, object]] = []

    async def pause(ctx: JobContext, iteration: int) -> None:
        body = {"reason": "via REST"}
        path = f"/api/optimizations/{ctx.job.id}/pause"
        answers.append((await api.call("POST", path, json=body))["data"])

    steps.at(1, pause, job["id"])
    await runner_of(services).run_until_idle()
    assert answers[0]["status"] == "running"
    assert answers[0]["pendingAction"] == "pause"
    events = await api.events(job["id"])
    assert trace(events)[-1] == ("job_paused", 1)
    assert events[-1]["data"]["reason"] == "via REST"


async def test_actions_not_allowed_in_the_current_state_are_409(
    api: Api, services: Services
) -> None:
    job = await api.job(config(1))
    base = f"/api/optimizations/{job['id']}"
    for action in ("pause", "resume"):
        body = await api.call("POST", f"{base}/{action}", 409)
        assert body["error"]["code"] == "invalid_transition"
    await api.call("GET", f"{base}/results", 409)
    await runner_of(services).run_until_idle()
    for action in ("pause", "resume", "cancel"):
        await api.call("POST", f"{base}/{action}", 409)
    assert trace(await api.events(job["id"])) == uninterrupted(1)
