"""Pause, resume and cancel over REST: what each does in each status, and the 409s.

A running or paused job is reached through the store (a claim with a test lease, as a
runner would), since only the runner moves a job there; ``control_wait_seconds`` is 0,
so the API answers at once."""

from __future__ import annotations

import pytest

from tests.server.helpers import (
    JOB_FIELDS,
    assert_error,
    assert_fields,
    job_state,
    make_paused,
    make_running,
)
from tests.support.api import Api
from whetstone.server.services import Services


async def test_cancel_queued_job(api: Api, services: Services) -> None:
    job = await api.job()
    response = await api.call(
        "POST", f"/api/optimizations/{job['id']}/cancel", json={"reason": "changed my mind"}
    )
    cancelled = response["data"]
    assert_fields(cancelled, JOB_FIELDS)
    assert cancelled["status"] == "cancelled"
    assert cancelled["finishedAt"] is not None
    assert cancelled["lastEventId"] == 1
    events = await api.events(job["id"])
    assert [e["eventType"] for e in events] == ["job_cancelled"]
    assert events[0]["data"]["reason"] == "changed my mind"
    assert events[0]["id"] == 1
    # the runner does not pick it up afterwards
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 0
    assert (await job_state(api, job["id"]))[:2] == ("cancelled", 1)


async def test_cancel_without_a_body(api: Api) -> None:
    job = await api.job()
    response = await api.client.post(f"/api/optimizations/{job['id']}/cancel", headers=api.headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "cancelled"


@pytest.mark.parametrize("action", ["pause", "resume"])
async def test_pause_or_resume_of_queued_job_is_409(api: Api, action: str) -> None:
    job = await api.job()
    before = await job_state(api, job["id"])
    response = await api.client.post(
        f"/api/optimizations/{job['id']}/{action}", headers=api.headers
    )
    error = assert_error(response, 409, "invalid_transition")
    assert "queued" in error["message"]
    assert action in error["message"]
    assert await job_state(api, job["id"]) == before == ("queued", 0, None, 0)


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
async def test_actions_on_a_completed_job_are_409(
    api: Api, services: Services, action: str
) -> None:
    job = await api.job()
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    before = await job_state(api, job["id"])
    assert before[0] == "completed"
    response = await api.client.post(
        f"/api/optimizations/{job['id']}/{action}", headers=api.headers
    )
    assert_error(response, 409, "invalid_transition")
    assert await job_state(api, job["id"]) == before


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
async def test_actions_on_a_cancelled_job_are_409(api: Api, action: str) -> None:
    job = await api.job()
    await api.call("POST", f"/api/optimizations/{job['id']}/cancel")
    before = await job_state(api, job["id"])
    response = await api.client.post(
        f"/api/optimizations/{job['id']}/{action}", headers=api.headers
    )
    assert_error(response, 409, "invalid_transition")
    assert await job_state(api, job["id"]) == before


async def test_pause_of_running_job_sets_pending_action(api: Api, services: Services) -> None:
    job = await api.job()
    await make_running(services, job["id"])
    paused = (
        await api.call("POST", f"/api/optimizations/{job['id']}/pause", json={"reason": "lunch"})
    )["data"]
    assert (paused["status"], paused["pendingAction"]) == ("running", "pause")
    # a second pause is the same request, not an error
    again = (await api.call("POST", f"/api/optimizations/{job['id']}/pause"))["data"]
    assert again["pendingAction"] == "pause"


async def test_resume_of_running_job_is_409(api: Api, services: Services) -> None:
    job = await api.job()
    await make_running(services, job["id"])
    before = await job_state(api, job["id"])
    response = await api.client.post(f"/api/optimizations/{job['id']}/resume", headers=api.headers)
    error = assert_error(response, 409, "invalid_transition")
    assert "running" in error["message"]
    assert await job_state(api, job["id"]) == before


async def test_cancel_of_running_job_is_left_to_its_runner(api: Api, services: Services) -> None:
    job = await api.job()
    await make_running(services, job["id"])
    response = (await api.call("POST", f"/api/optimizations/{job['id']}/cancel"))["data"]
    assert (response["status"], response["pendingAction"]) == ("running", "cancel")
    assert await api.events(job["id"]) == []


async def test_paused_job_resumes_and_cancels(api: Api, services: Services) -> None:
    job = await api.job()
    await make_paused(services, job["id"])
    response = await api.client.post(f"/api/optimizations/{job['id']}/pause", headers=api.headers)
    assert_error(response, 409, "invalid_transition")
    resumed = (await api.call("POST", f"/api/optimizations/{job['id']}/resume"))["data"]
    assert resumed["status"] == "running"
    assert resumed["pendingAction"] is None
    assert [e["eventType"] for e in await api.events(job["id"])] == ["job_resumed"]


async def test_cancel_of_paused_job_is_immediate(api: Api, services: Services) -> None:
    job = await api.job()
    await make_paused(services, job["id"])
    cancelled = (await api.call("POST", f"/api/optimizations/{job['id']}/cancel"))["data"]
    assert cancelled["status"] == "cancelled"
    assert [e["eventType"] for e in await api.events(job["id"])] == ["job_cancelled"]


async def test_cancel_overrides_a_pending_pause(api: Api, services: Services) -> None:
    job = await api.job()
    await make_running(services, job["id"])
    await api.call("POST", f"/api/optimizations/{job['id']}/pause")
    for _ in range(2):  # repeating a pending cancel is harmless
        cancel = (await api.call("POST", f"/api/optimizations/{job['id']}/cancel"))["data"]
        assert (cancel["status"], cancel["pendingAction"]) == ("running", "cancel")


async def test_pause_while_a_cancel_is_pending_is_409(api: Api, services: Services) -> None:
    """The job is on its way out: the 409 should say so, not invite a retry that can never
    succeed."""
    job = await api.job()
    await make_running(services, job["id"])
    await api.call("POST", f"/api/optimizations/{job['id']}/cancel")
    before = await job_state(api, job["id"])
    response = await api.client.post(f"/api/optimizations/{job['id']}/pause", headers=api.headers)
    error = assert_error(response, 409, "invalid_transition")
    assert "cancel" in error["message"]
    assert "try again" not in error["message"]
    assert await job_state(api, job["id"]) == before
