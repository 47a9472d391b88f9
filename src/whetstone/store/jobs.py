"""Jobs: creation, leases, control requests, and the one atomic write of events + state.

Event ids come from ``jobs.last_event_id``, bumped in the same transaction that
inserts the events, so ids per job start at 1 and have no gaps or duplicates
whoever writes. The runner's writes are fenced by its lease (``owner``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update

from whetstone.clock import Clock, new_id
from whetstone.domain.codec import EncodedEvent, event_type
from whetstone.domain.events import Event, JobCancelled, JobResumed, PendingEvent
from whetstone.domain.job import Job, Progress
from whetstone.domain.prompt import PromptBody, PromptSource
from whetstone.domain.status import ACTION_REQUIRES, JobAction, JobStatus
from whetstone.domain.usage import Usage
from whetstone.errors import InvalidTransition, LeaseLost, NotFound
from whetstone.store.base import Checkpoint, JobUpdate, Page
from whetstone.store.database import Database
from whetstone.store.prompts import SQLPromptStore
from whetstone.store.tables import checkpoints, events, jobs


def job_from_row(row: Any) -> Job:
    return Job(
        id=row.id,
        workspace_id=row.workspace_id,
        status=JobStatus(row.status),
        prompt_id=row.prompt_id,
        dataset_id=row.dataset_id,
        config=row.config,
        current_iteration=row.current_iteration,
        initial_score=row.initial_score,
        current_score=row.current_score,
        best_score=row.best_score,
        result_prompt_id=row.result_prompt_id,
        last_event_id=row.last_event_id,
        usage=Usage.from_wire(row.usage),
        error=row.error,
        stop_reason=row.stop_reason,
        pending_action=JobAction(row.pending_action) if row.pending_action else None,
        pending_reason=row.pending_reason,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        running_ms=row.running_ms,
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        or_(jobs.c.lease_owner.is_(None), jobs.c.lease_expires_at < now),
    )


def _update_values(update_: JobUpdate, result_prompt_id: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if update_.status is not None:
        values["status"] = update_.status.value
    if update_.progress is not None:
        p: Progress = update_.progress
        values.update(
            current_iteration=p.current_iteration,
            initial_score=p.initial_score,
            current_score=p.current_score,
            best_score=p.best_score,
            usage=p.usage.to_wire(),
        )
    for name in ("error", "stop_reason", "started_at", "finished_at", "running_ms"):
        if getattr(update_, name) is not None:
            values[name] = getattr(update_, name)
    if update_.clear_lease:
        values.update(lease_owner=None, lease_expires_at=None)
    if update_.clear_pending:
        values.update(pending_action=None, pending_reason=None)
    if result_prompt_id is not None:
        values["result_prompt_id"] = result_prompt_id
    return values


class SQLJobStore:
    def __init__(self, db: Database, clock: Clock, prompts: SQLPromptStore) -> None:
        self._db = db
        self._clock = clock
        self._prompts = prompts

    async def create(
        self, workspace_id: str, prompt_id: str, dataset_id: str, config: dict[str, Any]
    ) -> Job:
        job_id = new_id("job")
        async with self._db.write() as conn:
            await conn.execute(
                jobs.insert().values(
                    id=job_id,
                    workspace_id=workspace_id,
                    status=JobStatus.QUEUED.value,
                    prompt_id=prompt_id,
                    dataset_id=dataset_id,
                    config=config,
                    current_iteration=0,
                    last_event_id=0,
                    usage=Usage().to_wire(),
                    created_at=self._clock.now(),
                    running_ms=0,
                )
            )
        return await self.get(workspace_id, job_id)

    async def _row(self, where: ColumnElement[bool], job_id: str) -> Job:
        async with self._db.read() as conn:
            row = (await conn.execute(select(jobs).where(where))).first()
        if row is None:
            raise NotFound(f"optimization {job_id!r} not found", details={"id": job_id})
        return job_from_row(row)

    async def get(self, workspace_id: str, job_id: str) -> Job:
        return await self._row(
            and_(jobs.c.id == job_id, jobs.c.workspace_id == workspace_id), job_id
        )

    async def get_any(self, job_id: str) -> Job:
        return await self._row(jobs.c.id == job_id, job_id)

    async def page(
        self, workspace_id: str, *, status: JobStatus | None, limit: int, offset: int
    ) -> Page[Job]:
        where = [jobs.c.workspace_id == workspace_id]
        if status is not None:
            where.append(jobs.c.status == status.value)
        async with self._db.read() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(jobs).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                select(jobs)
                .where(*where)
                .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return Page([job_from_row(r) for r in rows], total, limit, offset)

    async def request(
        self, workspace_id: str, job_id: str, action: JobAction, reason: str | None
    ) -> Job:
        """Record a user's pause/resume/cancel. Resume, and cancel of a job no runner holds,
        take effect here; pause and cancel of a running job are honoured by its runner at
        the next step boundary (``pendingAction`` shows it meanwhile)."""
        for _ in range(5):
            job = await self.get(workspace_id, job_id)
            if job.status not in ACTION_REQUIRES[action]:
                allowed = ", ".join(sorted(ACTION_REQUIRES[action]))
                raise InvalidTransition(
                    f"cannot {action.value} optimization {job_id!r}: it is {job.status.value}; "
                    f"{action.value} needs status {allowed}",
                    details={"status": job.status.value, "action": action.value},
                )
            if action is JobAction.PAUSE and job.pending_action is JobAction.CANCEL:
                raise InvalidTransition(
                    f"cannot pause optimization {job_id!r}: it is being cancelled "
                    "(a cancel is pending and wins over a pause)",
                    details={"status": job.status.value, "pendingAction": "cancel"},
                )
            if await self._apply(job, action, reason):
                return await self.get(workspace_id, job_id)
        raise InvalidTransition(f"optimization {job_id!r} changed state; try again")

    async def _apply(self, job: Job, action: JobAction, reason: str | None) -> bool:
        now = self._clock.now()
        try:
            if action is JobAction.RESUME:
                event = PendingEvent.of(
                    JobResumed(job.current_iteration),
                    iteration=job.current_iteration,
                    timestamp=now,
                )
                update_ = JobUpdate(status=JobStatus.RUNNING, clear_lease=True, clear_pending=True)
                await self.write(
                    job.id, [event], update_, expect_status=frozenset({JobStatus.PAUSED})
                )
                return True
            if action is JobAction.CANCEL and job.status is not JobStatus.RUNNING:
                event = PendingEvent.of(
                    JobCancelled(reason), iteration=job.current_iteration, timestamp=now
                )
                update_ = JobUpdate(
                    status=JobStatus.CANCELLED,
                    stop_reason="cancelled",
                    finished_at=now,
                    clear_lease=True,
                    clear_pending=True,
                )
                await self.write(
                    job.id, [event], update_, expect_status=frozenset({job.status}), unleased=True
                )
                return True
        except InvalidTransition:
            if action is JobAction.RESUME:
                return False
            # a runner claimed the queued job meanwhile: leave it a request instead
        return await self._set_pending(job.id, action, reason)

    async def _set_pending(self, job_id: str, action: JobAction, reason: str | None) -> bool:
        if action is JobAction.PAUSE:  # a pending cancel wins over a pause
            where = [
                jobs.c.id == job_id,
                jobs.c.status == JobStatus.RUNNING.value,
                or_(jobs.c.pending_action.is_(None), jobs.c.pending_action == "pause"),
            ]
        else:
            allowed = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
            where = [jobs.c.id == job_id, jobs.c.status.in_(allowed)]
        async with self._db.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(*where)
                .values(pending_action=action.value, pending_reason=reason)
            )
        return bool(result.rowcount)

    async def claim(self, owner: str, now: datetime, lease_until: datetime) -> Job | None:
        """Take the oldest job that is queued, resumed, or whose runner's lease ran out."""
        candidate = (
            select(jobs.c.id).where(_claimable(now)).order_by(jobs.c.created_at).limit(1)
        ).scalar_subquery()
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id == candidate, _claimable(now))
                    .values(lease_owner=owner, lease_expires_at=lease_until)
                    .returning(*jobs.c)
                )
            ).first()
        return job_from_row(row) if row is not None else None

    async def renew(self, job_id: str, owner: str, lease_until: datetime) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
                .values(lease_expires_at=lease_until)
            )
        return bool(result.rowcount)

    async def release_owned(self, owner_prefix: str) -> int:
        """Free the leases a previous run of this node left behind (it is gone)."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.lease_owner.startswith(owner_prefix, autoescape=True))
                .values(lease_owner=None, lease_expires_at=None)
            )
        return int(result.rowcount)

    async def checkpoint(self, job_id: str) -> Checkpoint | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(select(checkpoints).where(checkpoints.c.job_id == job_id))
            ).first()
        return Checkpoint(row.step, row.state, row.summary) if row is not None else None

    async def write(
        self,
        job_id: str,
        events_: list[PendingEvent],
        update_: JobUpdate,
        *,
        owner: str | None = None,
        expect_status: frozenset[JobStatus] | None = None,
        unleased: bool = False,
    ) -> list[EncodedEvent]:
        """Append events and apply ``update_`` in one transaction.

        ``owner`` fences the write by lease (:class:`LeaseLost` if another runner took
        the job); ``expect_status``/``unleased`` guard user actions
        (:class:`InvalidTransition` if the job moved on)."""
        return await self._db.run_write(
            lambda conn: self._write_tx(
                conn, job_id, events_, update_, owner, expect_status, unleased
            )
        )

    def _write_tx(
        self,
        conn: Connection,
        job_id: str,
        events_: list[PendingEvent],
        update_: JobUpdate,
        owner: str | None,
        expect_status: frozenset[JobStatus] | None,
        unleased: bool,
    ) -> list[EncodedEvent]:
        result_prompt_id = update_.result_prompt_id
        if update_.result_prompt is not None:
            result_prompt_id = self._result_prompt(
                conn, job_id, update_.result_prompt, update_.result_prompt_id
            )
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                last_event_id=jobs.c.last_event_id + len(events_),
                **_update_values(update_, result_prompt_id),
            )
            .returning(jobs.c.last_event_id)
        )
        if owner is not None:
            stmt = stmt.where(jobs.c.lease_owner == owner)
        if expect_status is not None:
            stmt = stmt.where(jobs.c.status.in_([s.value for s in expect_status]))
        if unleased:
            stmt = stmt.where(
                or_(jobs.c.lease_owner.is_(None), jobs.c.lease_expires_at < self._clock.now())
            )
        last = conn.execute(stmt).scalar_one_or_none()
        if last is None:
            if owner is not None:
                raise LeaseLost(f"runner {owner!r} no longer holds optimization {job_id!r}")
            raise InvalidTransition(f"optimization {job_id!r} changed state meanwhile")
        written = [
            EncodedEvent(
                Event(
                    last - len(events_) + i + 1,
                    job_id,
                    p.iteration,
                    p.stage,
                    p.timestamp,
                    p.payload,
                )
            )
            for i, p in enumerate(events_)
        ]
        if written:
            conn.execute(
                events.insert(),
                [
                    {
                        "job_id": job_id,
                        "id": e.id,
                        "event_type": event_type(e.event.payload),
                        "iteration": e.event.iteration,
                        "created_at": e.event.timestamp,
                        "body": e.body.decode(),
                    }
                    for e in written
                ],
            )
        if update_.checkpoint is not None:
            self._save_checkpoint(conn, job_id, update_.checkpoint)
        return written

    def _result_prompt(
        self, conn: Connection, job_id: str, body: PromptBody, new: str | None
    ) -> str:
        row = conn.execute(
            select(jobs.c.workspace_id, jobs.c.prompt_id).where(jobs.c.id == job_id)
        ).one()
        return self._prompts.add_version_tx(
            conn,
            row.workspace_id,
            row.prompt_id,
            body,
            f"optimized by {job_id}",
            PromptSource.OPTIMIZATION,
            job_id,
            new,
        )

    def _save_checkpoint(self, conn: Connection, job_id: str, cp: Checkpoint) -> None:
        values = {
            "step": cp.step,
            "state": cp.state,
            "summary": cp.summary,
            "updated_at": self._clock.now(),
        }
        result = conn.execute(
            update(checkpoints).where(checkpoints.c.job_id == job_id).values(**values)
        )
        if not result.rowcount:
            conn.execute(checkpoints.insert().values(job_id=job_id, **values))
