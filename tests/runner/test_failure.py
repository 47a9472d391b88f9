"""A step that raises: the job fails with a ``job_failed`` event and the runner carries on."""

from __future__ import annotations

import pytest

from tests.runner.helpers import Steps, assert_contiguous, runner_of, trace, uninterrupted
from tests.support.api import Api
from tests.support.engines import BoomError
from whetstone.engine.base import JobContext
from whetstone.errors import RateLimited
from whetstone.server.services import Services

CONFIG = {"maxIterations": 3, "dryRun": True}


async def boom(ctx: JobContext, iteration: int) -> None:
    raise BoomError(f"boom at {iteration}")


async def rate_limited(ctx: JobContext, iteration: int) -> None:
    raise RateLimited("provider said slow down")


async def test_failing_step_fails_the_job_and_the_runner_keeps_working(
    api: Api, services: Services, steps: Steps
) -> None:
    k = 2
    failing = await api.job(CONFIG)
    healthy = await api.job(CONFIG)
    steps.at(k, boom, failing["id"])

    assert await runner_of(services).run_until_idle() == 2

    events = await api.events(failing["id"])
    assert trace(events) == [*uninterrupted(3)[: 1 + 2 * (k - 1)], ("job_failed", k - 1)]
    assert_contiguous(events)
    error = {"code": "internal", "message": "boom at 2"}
    assert events[-1]["data"] == {"error": error, "willRetry": False}
    job = (await api.call("GET", f"/api/optimizations/{failing['id']}"))["data"]
    assert job["status"] == "failed"
    assert job["error"] == error
    assert job["stopReason"] == "error"
    assert job["finishedAt"] is not None
    assert job["currentIteration"] == k - 1
    stored = await services.store.jobs.get_any(failing["id"])
    assert stored.lease_owner is None
    results = (await api.call("GET", f"/api/optimizations/{failing['id']}/results"))["data"]
    assert results["status"] == "failed"
    assert results["stopReason"] == "error"

    assert trace(await api.events(healthy["id"])) == uninterrupted(3)
    done = (await api.call("GET", f"/api/optimizations/{healthy['id']}"))["data"]
    assert done["status"] == "completed"
    assert await runner_of(services).run_until_idle() == 0  # a failed job is not retried
    await api.call("POST", f"/api/optimizations/{failing['id']}/resume", 409)


@pytest.mark.parametrize("iteration", [1, 3])
async def test_failure_on_first_and_last_step(
    api: Api, services: Services, steps: Steps, iteration: int
) -> None:
    job = await api.job(CONFIG)
    steps.at(iteration, boom, job["id"])
    await runner_of(services).run_until_idle()
    events = await api.events(job["id"])
    assert [t for t, _ in trace(events)].count("job_failed") == 1
    assert trace(events)[-1] == ("job_failed", iteration - 1)
    assert "job_complete" not in [t for t, _ in trace(events)]
    assert_contiguous(events)


async def test_failure_keeps_the_code_of_a_whetstone_error(
    api: Api, services: Services, steps: Steps
) -> None:
    job = await api.job(CONFIG)
    steps.at(1, rate_limited, job["id"])
    await runner_of(services).run_until_idle()
    events = await api.events(job["id"])
    assert events[-1]["eventType"] == "job_failed"
    assert events[-1]["data"]["error"] == {
        "code": "rate_limited",
        "message": "provider said slow down",
    }
    stored = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert stored["error"]["code"] == "rate_limited"
