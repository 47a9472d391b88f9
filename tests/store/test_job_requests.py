"""User actions on jobs (pause, resume, cancel) and a job's result prompt."""

from __future__ import annotations

import contextlib
import json

import pytest

from whetstone.clock import ManualClock
from whetstone.domain.job import Job, Workspace
from whetstone.domain.prompt import Message, Prompt, PromptBody, PromptSource
from whetstone.domain.status import TERMINAL, JobAction, JobStatus
from whetstone.errors import InvalidTransition, LeaseLost, NotFound
from whetstone.store.base import JobUpdate
from whetstone.store.sql import SQLStore

from .helpers import claim, iteration_events, pause, set_status, start_running


async def _events(store: SQLStore, job_id: str) -> list[dict[str, object]]:
    return [json.loads(b) for b in (await store.events.after(job_id, 0, 1000)).bodies]


async def _request(store: SQLStore, job: Job, action: JobAction, reason: str | None = None) -> Job:
    return await store.jobs.request(job.workspace_id, job.id, action, reason)


@pytest.mark.parametrize("action", [JobAction.PAUSE, JobAction.RESUME])
async def test_pause_or_resume_of_queued_job_is_invalid(
    store: SQLStore, job: Job, action: JobAction
) -> None:
    with pytest.raises(InvalidTransition) as info:
        await _request(store, job, action)
    assert info.value.details == {"status": "queued", "action": action.value}
    assert await store.jobs.get_any(job.id) == job


async def test_resume_of_paused_job(store: SQLStore, clock: ManualClock, job: Job) -> None:
    await store.jobs.write(job.id, iteration_events(clock, 2), JobUpdate())
    paused = await pause(store, clock, job, "runner-a")
    resumed = await _request(store, job, JobAction.RESUME)
    assert (resumed.status, resumed.lease_owner, resumed.lease_expires_at) == (
        JobStatus.RUNNING,
        None,
        None,
    )
    assert (resumed.pending_action, resumed.last_event_id) == (None, 3)
    events = await _events(store, job.id)
    assert [e["id"] for e in events] == [1, 2, 3]
    assert events[-1]["eventType"] == "job_resumed"
    assert events[-1]["data"] == {"iteration": paused.current_iteration}
    with pytest.raises(InvalidTransition):
        await _request(store, job, JobAction.RESUME)


async def _assert_cancelled(store: SQLStore, job: Job, reason: str | None) -> None:
    got = await store.jobs.get_any(job.id)
    assert (got.status, got.stop_reason) == (JobStatus.CANCELLED, "cancelled")
    assert got.finished_at is not None
    assert (got.lease_owner, got.pending_action) == (None, None)
    events = await _events(store, job.id)
    assert events[-1]["eventType"] == "job_cancelled"
    assert events[-1]["data"] == {"reason": reason}
    assert events[-1]["id"] == got.last_event_id
    assert [e["id"] for e in events] == list(range(1, got.last_event_id + 1))


async def test_cancel_of_queued_job(store: SQLStore, job: Job) -> None:
    cancelled = await _request(store, job, JobAction.CANCEL, "changed my mind")
    assert (cancelled.status, cancelled.last_event_id) == (JobStatus.CANCELLED, 1)
    await _assert_cancelled(store, job, "changed my mind")


async def test_cancel_of_paused_job(store: SQLStore, clock: ManualClock, job: Job) -> None:
    await pause(store, clock, job, "runner-a")
    cancelled = await _request(store, job, JobAction.CANCEL)
    assert cancelled.status is JobStatus.CANCELLED
    await _assert_cancelled(store, job, None)


async def test_cancel_of_running_job_is_pending(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    running = await start_running(store, clock, job, "runner-a")
    got = await _request(store, job, JobAction.CANCEL, "stop")
    assert (got.status, got.pending_action, got.pending_reason) == (
        JobStatus.RUNNING,
        JobAction.CANCEL,
        "stop",
    )
    assert (got.lease_owner, got.last_event_id, got.finished_at) == ("runner-a", 0, None)
    assert running.pending_action is None


async def test_cancel_of_claimed_queued_job_is_pending(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await claim(store, clock, "runner-a")
    got = await _request(store, job, JobAction.CANCEL, "too slow")
    assert (got.status, got.pending_action, got.pending_reason) == (
        JobStatus.QUEUED,
        JobAction.CANCEL,
        "too slow",
    )
    assert await _events(store, job.id) == []


async def test_pause_of_running_job_is_pending(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    got = await _request(store, job, JobAction.PAUSE, "lunch")
    assert (got.status, got.pending_action, got.pending_reason) == (
        JobStatus.RUNNING,
        JobAction.PAUSE,
        "lunch",
    )
    again = await _request(store, job, JobAction.PAUSE, "later")
    assert (again.pending_action, again.pending_reason) == (JobAction.PAUSE, "later")
    assert await _events(store, job.id) == []


async def test_cancel_overrides_a_pending_pause(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    await _request(store, job, JobAction.PAUSE, "lunch")
    got = await _request(store, job, JobAction.CANCEL, "abort")
    assert (got.pending_action, got.pending_reason) == (JobAction.CANCEL, "abort")


async def test_pause_does_not_override_a_pending_cancel(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    await _request(store, job, JobAction.CANCEL, "abort")
    with contextlib.suppress(InvalidTransition):  # either answer keeps the cancel
        await _request(store, job, JobAction.PAUSE, "lunch")
    got = await store.jobs.get_any(job.id)
    assert (got.status, got.pending_action, got.pending_reason) == (
        JobStatus.RUNNING,
        JobAction.CANCEL,
        "abort",
    )


async def test_pause_while_a_cancel_is_pending_is_refused_and_changes_nothing(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    """The cancel wins: a pause then is a 409 that says so, at once (no futile retries)."""
    await start_running(store, clock, job, "runner-a")
    await _request(store, job, JobAction.CANCEL, "abort")
    before = await store.jobs.get_any(job.id)
    with pytest.raises(InvalidTransition, match="cancel is pending") as info:
        await _request(store, job, JobAction.PAUSE, "lunch")
    assert info.value.details == {"status": "running", "pendingAction": "cancel"}
    assert await store.jobs.get_any(job.id) == before


@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize("action", list(JobAction))
async def test_every_action_on_a_terminal_job_is_invalid(
    store: SQLStore, clock: ManualClock, job: Job, status: JobStatus, action: JobAction
) -> None:
    await store.jobs.write(job.id, iteration_events(clock, 1), JobUpdate())
    before = await set_status(store, job, status)
    with pytest.raises(InvalidTransition) as info:
        await _request(store, job, action)
    assert info.value.details == {"status": status.value, "action": action.value}
    assert await store.jobs.get_any(job.id) == before
    assert len(await _events(store, job.id)) == 1


async def test_request_from_another_workspace_is_not_found(
    store: SQLStore, other_ws: Workspace, job: Job
) -> None:
    with pytest.raises(NotFound):
        await store.jobs.request(other_ws.id, job.id, JobAction.CANCEL, None)
    assert (await store.jobs.get_any(job.id)).status is JobStatus.QUEUED


async def test_result_prompt_becomes_a_new_version(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    body = PromptBody(messages=(Message("system", "Be brief."), Message("user", "Hi {name}")))
    update = JobUpdate(status=JobStatus.COMPLETED, result_prompt=body, result_prompt_id="prm_res")
    await store.jobs.write(job.id, iteration_events(clock, 1), update, owner="runner-a")
    got = await store.jobs.get(ws.id, job.id)
    assert (got.status, got.result_prompt_id) == (JobStatus.COMPLETED, "prm_res")
    result = await store.prompts.get(ws.id, "prm_res")
    assert (result.version, result.is_latest, result.family_id) == (2, True, prompt.family_id)
    assert (result.source, result.job_id, result.body) == (PromptSource.OPTIMIZATION, job.id, body)
    assert result.name == prompt.name
    assert not (await store.prompts.get(ws.id, prompt.id)).is_latest
    versions = await store.prompts.versions(ws.id, prompt.id)
    assert [v.id for v in versions] == [prompt.id, "prm_res"]


async def test_result_prompt_without_given_id(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, job: Job
) -> None:
    body = PromptBody(template="Hello {name}!")
    await store.jobs.write(job.id, [], JobUpdate(result_prompt=body))
    got = await store.jobs.get(ws.id, job.id)
    assert got.result_prompt_id is not None
    result = await store.prompts.get(ws.id, got.result_prompt_id)
    assert (result.version, result.body, result.job_id) == (2, body, job.id)


async def test_result_prompt_is_rolled_back_with_a_fenced_write(
    store: SQLStore, clock: ManualClock, ws: Workspace, prompt: Prompt, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    update = JobUpdate(result_prompt=PromptBody(template="x"), result_prompt_id="prm_lost")
    with pytest.raises(LeaseLost):
        await store.jobs.write(job.id, [], update, owner="runner-b")
    assert [v.id for v in await store.prompts.versions(ws.id, prompt.id)] == [prompt.id]
    assert (await store.jobs.get_any(job.id)).result_prompt_id is None


async def test_runner_write_clears_pending_and_lease(
    store: SQLStore, clock: ManualClock, job: Job
) -> None:
    await start_running(store, clock, job, "runner-a")
    await _request(store, job, JobAction.PAUSE, "lunch")
    update = JobUpdate(status=JobStatus.PAUSED, clear_lease=True, clear_pending=True)
    await store.jobs.write(job.id, iteration_events(clock, 1), update, owner="runner-a")
    got = await store.jobs.get_any(job.id)
    assert (got.status, got.pending_action, got.pending_reason) == (JobStatus.PAUSED, None, None)
    assert (got.lease_owner, got.lease_expires_at, got.last_event_id) == (None, None, 1)
