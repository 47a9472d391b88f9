"""``JobExecution``: drives one claimed job through its steps until it ends, pauses or is lost.

Every step's events, checkpoint and counters are written in one transaction
fenced by this runner's lease, then published. Pause and cancel requests are
honoured between steps; any failure becomes a ``job_failed`` event.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from whetstone.bus.base import EventBus
from whetstone.clock import Clock, new_id
from whetstone.domain.config import JobConfig
from whetstone.domain.dataset import Item
from whetstone.domain.events import (
    EventPayload,
    JobCancelled,
    JobComplete,
    JobFailed,
    JobPaused,
    JobStarted,
    PendingEvent,
)
from whetstone.domain.job import Job, Progress
from whetstone.domain.prompt import Prompt
from whetstone.domain.results import build_results
from whetstone.domain.status import JobAction, JobStatus
from whetstone.domain.usage import Usage
from whetstone.engine.base import EngineFactory, JobContext, JobEngine, StepResult
from whetstone.errors import LeaseLost
from whetstone.store.base import Checkpoint, JobUpdate, Store

log = logging.getLogger(__name__)


class StoreItemSource:
    def __init__(self, store: Store, workspace_id: str, dataset_id: str) -> None:
        self._store = store
        self._workspace_id = workspace_id
        self._dataset_id = dataset_id

    async def page(self, offset: int, limit: int) -> list[Item]:
        page = await self._store.datasets.items(
            self._workspace_id, self._dataset_id, limit=limit, offset=offset
        )
        return page.items

    async def at(self, positions: list[int]) -> list[Item]:
        return await self._store.datasets.items_at(self._dataset_id, positions)

    async def has_expected_outputs(self) -> bool:
        return await self._store.datasets.has_expected_outputs(self._dataset_id)


def _ms(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


class JobExecution:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        engine_factory: EngineFactory,
        clock: Clock,
        owner: str,
        job: Job,
    ) -> None:
        self._store = store
        self._bus = bus
        self._factory = engine_factory
        self._clock = clock
        self._owner = owner
        self._job = job
        self._running_ms = job.running_ms
        self._engine: JobEngine | None = None

    async def run(self) -> None:
        try:
            await self._run()
        except LeaseLost:
            log.warning("lost the lease of %s; another runner continues it", self._job.id)
        except Exception as exc:
            log.exception("optimization %s failed", self._job.id)
            await self._fail(exc)

    async def _run(self) -> None:
        job = self._job
        if job.status is JobStatus.QUEUED:
            if job.pending_action is JobAction.CANCEL:
                await self._cancel(job)
                return
            job = await self._begin(job)
        prompt = await self._store.prompts.get(job.workspace_id, job.prompt_id)
        engine = self._engine = self._factory(await self._context(job, prompt))
        checkpoint = await self._store.jobs.checkpoint(job.id)
        if checkpoint is None:
            step, state = 0, engine.initial_state()
        else:
            step, state = checkpoint.step, checkpoint.state
        while True:
            job = self._job = await self._store.jobs.get_any(job.id)
            if job.lease_owner != self._owner:
                raise LeaseLost(f"optimization {job.id} is held by another runner")
            if job.pending_action is JobAction.CANCEL:
                await self._cancel(job)
                return
            if job.pending_action is JobAction.PAUSE:
                await self._pause(job)
                return
            started = self._clock.now()
            result = await engine.step(state)
            self._running_ms += _ms(started, self._clock.now())
            step += 1
            update = JobUpdate(
                progress=result.progress,
                checkpoint=Checkpoint(step, result.state, result.summary.to_wire()),
                running_ms=self._running_ms,
            )
            if result.stop is not None:
                await self._complete(job, prompt, result, update)
                return
            await self._write(result.events, update)
            state = result.state

    async def _context(self, job: Job, prompt: Prompt) -> JobContext:
        dataset = await self._store.datasets.get(job.workspace_id, job.dataset_id)
        items = StoreItemSource(self._store, job.workspace_id, job.dataset_id)
        return JobContext(
            job=job,
            config=JobConfig.model_validate(job.config),
            prompt=prompt,
            dataset=dataset,
            items=items,
            clock=self._clock,
            elapsed_ms=lambda: self._running_ms,
            has_expected_outputs=await items.has_expected_outputs(),
        )

    def _event(self, payload: EventPayload, iteration: int) -> PendingEvent:
        return PendingEvent.of(payload, iteration=iteration, timestamp=self._clock.now())

    async def _write(
        self,
        events: list[PendingEvent],
        update: JobUpdate,
        expect_status: frozenset[JobStatus] | None = None,
    ) -> None:
        written = await self._store.jobs.write(
            self._job.id, events, update, owner=self._owner, expect_status=expect_status
        )
        await self._bus.publish(self._job.id, written)

    async def _begin(self, job: Job) -> Job:
        now = self._clock.now()
        started = JobStarted(job.id, now, job.prompt_id, job.dataset_id, job.config)
        await self._write(
            [self._event(started, 0)],
            JobUpdate(status=JobStatus.RUNNING, started_at=now),
            expect_status=frozenset({JobStatus.QUEUED}),
        )
        return await self._store.jobs.get_any(job.id)

    async def _pause(self, job: Job) -> None:
        paused = JobPaused(job.current_iteration, job.pending_reason)
        await self._write(
            [self._event(paused, job.current_iteration)],
            JobUpdate(status=JobStatus.PAUSED, clear_lease=True, clear_pending=True),
        )

    async def _cancel(self, job: Job) -> None:
        await self._finish(
            job,
            [self._event(JobCancelled(job.pending_reason), job.current_iteration)],
            JobUpdate(status=JobStatus.CANCELLED, stop_reason="cancelled"),
        )

    async def _complete(
        self, job: Job, prompt: Prompt, result: StepResult, update: JobUpdate
    ) -> None:
        best = result.summary.best_prompt
        changed = best != prompt.body
        result_id = new_id("prm") if changed else prompt.id
        progress = result.progress
        final_job = dataclasses.replace(
            job,
            initial_score=progress.initial_score,
            best_score=progress.best_score,
            usage=progress.usage,
        )
        results = build_results(
            final_job,
            result.summary,
            status=JobStatus.COMPLETED,
            stop_reason=result.stop,
            result_prompt_id=result_id,
        )
        done = self._event(JobComplete(results), progress.current_iteration)
        await self._finish(
            job,
            [*result.events, done],
            dataclasses.replace(
                update,
                status=JobStatus.COMPLETED,
                stop_reason=result.stop,
                result_prompt=best if changed else None,
                result_prompt_id=result_id,
            ),
        )

    async def _finish(self, job: Job, events: list[PendingEvent], update: JobUpdate) -> None:
        final = dataclasses.replace(
            update, finished_at=self._clock.now(), clear_lease=True, clear_pending=True
        )
        await self._write(events, final)

    async def _fail(self, exc: Exception) -> None:
        code = getattr(exc, "code", "internal")
        message = str(exc) or type(exc).__name__
        failed = JobFailed({"code": code, "message": message}, will_retry=False)
        job = self._job
        progress = None
        # An engine that tracks its spending (``usage``) may have paid for calls in the
        # step that failed: they still count in the failed job's usage.
        spent = getattr(self._engine, "usage", None)
        if isinstance(spent, Usage):
            progress = Progress(
                job.current_iteration, job.initial_score, job.current_score, job.best_score, spent
            )
        try:
            await self._finish(
                job,
                [self._event(failed, job.current_iteration)],
                JobUpdate(
                    status=JobStatus.FAILED,
                    stop_reason="error",
                    error=failed.error,
                    progress=progress,
                ),
            )
        except LeaseLost:
            log.warning("could not record the failure of %s: lease lost", job.id)
