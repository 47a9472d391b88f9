"""``JobRunner``: claims jobs with a lease and runs them in this process (the default executor).

Claimable jobs are queued ones, resumed ones (running, no lease) and those whose
runner's lease ran out (a crashed node). On start the runner frees the leases a
previous run of the same node left, so a restarted server resumes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from whetstone.bus.base import EventBus
from whetstone.clock import Clock, new_id
from whetstone.domain.job import Job
from whetstone.engine.base import EngineFactory
from whetstone.runner.execution import JobExecution
from whetstone.store.base import Store

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        engine_factory: EngineFactory,
        *,
        clock: Clock,
        node_id: str,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        max_jobs: int = 4,
    ) -> None:
        self._store = store
        self._bus = bus
        self._factory = engine_factory
        self._clock = clock
        self._node_id = node_id
        self.owner = f"{node_id}:{new_id('run', 6)}"
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._max_jobs = max_jobs
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        freed = await self._store.jobs.release_owned(f"{self._node_id}:")
        if freed:
            log.info("resuming %d optimization(s) left by this node's previous run", freed)
        self._loop_task = asyncio.create_task(self._loop(), name="whetstone-runner")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        # Jobs stopped mid-step stay "running"; the next start of this node frees and resumes them.
        await self._store.jobs.release_owned(self.owner)

    def notify(self) -> None:
        """Something may be claimable now (a job was created or resumed)."""
        self._wake.set()

    @property
    def active_jobs(self) -> list[str]:
        return list(self._running)

    async def run_until_idle(self) -> int:
        """Run claimable jobs one after another until none is left; returns how many ran."""
        count = 0
        while (job := await self._claim()) is not None:
            await self._execution(job).run()
            count += 1
        return count

    async def _claim(self) -> Job | None:
        now = self._clock.now()
        return await self._store.jobs.claim(self.owner, now, now + self._lease)

    def _execution(self, job: Job) -> JobExecution:
        return JobExecution(self._store, self._bus, self._factory, self._clock, self.owner, job)

    async def _loop(self) -> None:
        while True:
            try:
                while len(self._running) < self._max_jobs:
                    job = await self._claim()
                    if job is None:
                        break
                    if job.id in self._running:
                        # Our own lease lapsed (renewals failed) while we still run it: the
                        # claim just renewed it. Never start a second copy.
                        continue
                    self._spawn(job)
            except Exception:
                log.exception("claiming jobs failed; retrying")
            self._wake.clear()
            # Not asyncio.wait_for: on Python 3.11 it can swallow a cancel that arrives as
            # the event fires, and stop() would wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()

    def _spawn(self, job: Job) -> None:
        task = asyncio.create_task(self._guarded(job), name=f"whetstone-job-{job.id}")
        self._running[job.id] = task

    async def _guarded(self, job: Job) -> None:
        renew = asyncio.create_task(self._renew(job.id, asyncio.current_task()))
        try:
            await self._execution(job).run()
        finally:
            renew.cancel()
            self._running.pop(job.id, None)
            self._wake.set()

    async def _renew(self, job_id: str, main: asyncio.Task[None] | None) -> None:
        interval = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                ok = await self._store.jobs.renew(
                    job_id, self.owner, self._clock.now() + self._lease
                )
            except Exception:
                log.exception("renewing the lease of %s failed; trying again", job_id)
                continue
            if not ok:
                log.warning("lease of %s lost; stopping its execution", job_id)
                if main is not None:
                    main.cancel()
                return
