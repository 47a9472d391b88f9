"""The runner in the background (as ``whetstone serve`` runs it): a pause or cancel of a
running job answers once the runner has honoured it, within ``control_wait_seconds``; the
runner stops promptly and never runs one job twice at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.runner.helpers import (
    WAIT,
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
from whetstone.bus.base import Subscription
from whetstone.clock import ManualClock
from whetstone.domain.events import JobPaused
from whetstone.runner.runner import JobRunner
from whetstone.server.services import Services
from whetstone.settings import Settings

CONFIG = {"maxIterations": 4, "dryRun": True}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789",
        control_wait_seconds=5,
        lease_seconds=30,
    )


@pytest.fixture
async def runner(services: Services) -> AsyncIterator[JobRunner]:
    runner = runner_of(services)
    await runner.start()
    yield runner
    await stop_within(runner)


async def until(predicate: Callable[[], Awaitable[bool]]) -> None:
    """Wait (bounded) until ``predicate``, which reads the store, holds."""

    async def check() -> None:
        while not await predicate():
            pass  # each check awaits a database read, so the other tasks run meanwhile

    await asyncio.wait_for(check(), WAIT)


async def until_ended(services: Services, job_id: str) -> None:
    async def ended() -> bool:
        return (await services.store.jobs.get_any(job_id)).status.is_terminal

    await until(ended)


async def until_paused(sub: Subscription) -> None:
    async def paused() -> None:
        while not isinstance((await sub.get()).event.payload, JobPaused):
            pass

    await asyncio.wait_for(paused(), WAIT)


async def act_mid_step(
    api: Api, services: Services, gate: Gate, job_id: str, action: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST ``action`` while the job is held inside a step, let the step finish once the
    request is recorded, and return the answer."""
    await gate.wait_reached()
    path = f"/api/optimizations/{job_id}/{action}"
    answer = asyncio.create_task(api.call("POST", path, json=body))

    async def recorded() -> bool:
        return (await services.store.jobs.get_any(job_id)).pending_action is not None

    await until(recorded)
    assert not answer.done()  # it waits for the runner
    gate.opened.set()
    data: dict[str, Any] = (await asyncio.wait_for(answer, WAIT))["data"]
    return data


async def test_pause_answers_with_the_job_paused(
    api: Api, services: Services, steps: Steps, runner: JobRunner
) -> None:
    gate = Gate()
    steps.at(2, gate)
    job = await api.job(CONFIG)
    paused = await act_mid_step(api, services, gate, job["id"], "pause", {"reason": "wait"})
    assert paused["status"] == "paused"
    assert paused["currentIteration"] == 2
    assert paused["pendingAction"] is None
    events = await api.events(job["id"])
    assert trace(events)[-1] == ("job_paused", 2)
    assert events[-1]["data"]["reason"] == "wait"

    sub = services.bus.subscribe(job["id"])
    try:
        resumed = (await api.call("POST", f"/api/optimizations/{job['id']}/resume"))["data"]
        assert resumed["status"] == "running"
        assert await until_terminal(sub) == "JobComplete"
    finally:
        sub.close()
    final = await api.events(job["id"])
    assert_contiguous(final)
    expected = uninterrupted(4)
    expected[5:5] = [("job_paused", 2), ("job_resumed", 2)]
    assert trace(final) == expected
    assert steps.iterations(job["id"]) == [1, 2, 3, 4]


async def test_cancel_answers_with_the_job_cancelled(
    api: Api, services: Services, steps: Steps, runner: JobRunner
) -> None:
    gate = Gate()
    steps.at(1, gate)
    job = await api.job(CONFIG)
    cancelled = await act_mid_step(api, services, gate, job["id"], "cancel", {"reason": "stop"})
    assert cancelled["status"] == "cancelled"
    assert cancelled["stopReason"] == "cancelled"
    assert cancelled["finishedAt"] is not None
    events = await api.events(job["id"])
    assert trace(events) == [*uninterrupted(4)[:3], ("job_cancelled", 1)]
    assert steps.iterations(job["id"]) == [1]


async def test_control_wait_is_bounded(
    api: Api, services: Services, steps: Steps, runner: JobRunner
) -> None:
    services.settings.control_wait_seconds = 0.1
    gate = Gate()
    steps.at(1, gate)
    job = await api.job(CONFIG)
    await gate.wait_reached()
    sub = services.bus.subscribe(job["id"])
    try:
        # the runner is held inside the step: the answer comes when the wait runs out
        path = f"/api/optimizations/{job['id']}/pause"
        answer = (await asyncio.wait_for(api.call("POST", path), WAIT))["data"]
        assert answer["status"] == "running"
        assert answer["pendingAction"] == "pause"
        gate.opened.set()
        await until_paused(sub)
    finally:
        sub.close()
    job_now = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert job_now["status"] == "paused"
    assert job_now["currentIteration"] == 1


async def test_stop_right_after_a_job_ends_returns(
    api: Api, services: Services, steps: Steps, runner: JobRunner
) -> None:
    gate = Gate()
    steps.at(1, gate)
    job = await api.job(CONFIG)
    await gate.wait_reached()
    sub = services.bus.subscribe(job["id"])
    try:
        gate.opened.set()
        assert await until_terminal(sub) == "JobComplete"
    finally:
        sub.close()
    # Stop at once, as a server shutting down just as a job ends: the runner's loop is
    # being woken (the job's end wakes it) when stop() cancels it.
    async with asyncio.timeout(2) as bound:
        await runner.stop()
    assert not bound.expired(), "JobRunner.stop() hung: its loop outlived the cancellation"


async def test_runner_does_not_run_a_job_twice_when_its_own_lease_expires(
    api: Api, services: Services, steps: Steps, runner: JobRunner, clock: ManualClock
) -> None:
    first_hold, second_hold = Gate(), Gate()
    steps.at(2, first_hold)
    stuck = await api.job(CONFIG)
    await first_hold.wait_reached()
    steps.at(2, second_hold, stuck["id"])
    clock.advance(services.settings.lease_seconds + 1)  # e.g. renewals failed meanwhile

    later = await api.job(CONFIG)  # wakes the runner's loop, which claims oldest first
    await until_ended(services, later["id"])
    computed = steps.iterations(stuck["id"])

    sub = services.bus.subscribe(stuck["id"])
    try:
        first_hold.opened.set()
        second_hold.opened.set()
        await until_terminal(sub)
    finally:
        sub.close()
    assert computed == [1, 2], "the runner started a second execution of a job it still runs"
    events = await api.events(stuck["id"])
    assert_contiguous(events)
    assert trace(events) == uninterrupted(4)
