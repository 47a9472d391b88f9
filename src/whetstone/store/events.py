"""Reading the append-only event log by id (never by count): the source of truth for replay."""

from __future__ import annotations

from sqlalchemy import select

from whetstone.store.base import EventPage
from whetstone.store.database import Database
from whetstone.store.tables import events, jobs


class SQLEventLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def after(self, job_id: str, after_id: int, limit: int) -> EventPage:
        """Events with id > ``after_id``, oldest first, at most ``limit``; the caller
        checks the job belongs to the workspace."""
        async with self._db.read() as conn:
            head = (
                await conn.execute(select(jobs.c.last_event_id).where(jobs.c.id == job_id))
            ).scalar_one_or_none()
            result = await conn.execute(
                select(events.c.id, events.c.event_type, events.c.body)
                .where(events.c.job_id == job_id, events.c.id > after_id)
                .order_by(events.c.id)
                .limit(limit + 1)
            )
            rows = result.all()
        page = rows[:limit]
        return EventPage(
            bodies=[r.body.encode() for r in page],
            head_event_id=int(head or 0),
            has_more=len(rows) > limit,
            ids=[r.id for r in page],
            types=[r.event_type for r in page],
        )
