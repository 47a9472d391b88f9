"""Prompts and their versions. Every version has its own id; ``family_id`` ties them together."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from whetstone.clock import Clock, new_id
from whetstone.domain.prompt import Message, Prompt, PromptBody, PromptSource
from whetstone.errors import InvalidRequest, NotFound
from whetstone.store.base import Page
from whetstone.store.database import Database
from whetstone.store.tables import prompts


def prompt_from_row(row: Any) -> Prompt:
    if row.template is not None:
        body = PromptBody(template=row.template)
    else:
        body = PromptBody(messages=tuple(Message(m["role"], m["content"]) for m in row.messages))
    return Prompt(
        id=row.id,
        workspace_id=row.workspace_id,
        family_id=row.family_id,
        name=row.name,
        version=row.version,
        is_latest=row.is_latest,
        description=row.description,
        tags=tuple(row.tags or ()),
        body=body,
        source=PromptSource(row.source),
        job_id=row.job_id,
        created_at=row.created_at,
    )


def _body_columns(body: PromptBody) -> dict[str, Any]:
    if body.template is not None:
        return {"template": body.template, "messages": None}
    return {"template": None, "messages": [m.to_wire() for m in body.messages or ()]}


class SQLPromptStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        workspace_id: str,
        name: str,
        body: PromptBody,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> Prompt:
        prompt_id = new_id("prm")
        async with self._db.write() as conn:
            existing = (
                await conn.execute(
                    select(prompts.c.family_id).where(
                        prompts.c.workspace_id == workspace_id, prompts.c.name == name
                    )
                )
            ).first()
            if existing is not None:
                raise InvalidRequest(
                    f"a prompt named {name!r} exists already; add a version with "
                    f"POST /api/prompts/{existing.family_id}/versions, or choose another name",
                    details={"name": "already exists"},
                )
            values = {
                "id": prompt_id,
                "workspace_id": workspace_id,
                "family_id": prompt_id,
                "name": name,
                "version": 1,
                "is_latest": True,
                "description": description,
                "tags": list(tags or []),
                "source": PromptSource.USER.value,
                "job_id": None,
                "created_at": self._clock.now(),
                **_body_columns(body),
            }
            await conn.execute(prompts.insert().values(**values))
        return await self.get(workspace_id, prompt_id)

    async def add_version(
        self,
        workspace_id: str,
        prompt_id: str,
        body: PromptBody,
        description: str | None = None,
        source: PromptSource = PromptSource.USER,
        job_id: str | None = None,
    ) -> Prompt:
        new = await self._db.run_write(
            lambda conn: self.add_version_tx(
                conn, workspace_id, prompt_id, body, description, source, job_id
            )
        )
        return await self.get(workspace_id, new)

    def add_version_tx(
        self,
        conn: Connection,
        workspace_id: str,
        prompt_id: str,
        body: PromptBody,
        description: str | None,
        source: PromptSource,
        job_id: str | None,
        new: str | None = None,
    ) -> str:
        """Add a version inside an open write transaction; returns its id (``new`` if given)."""
        base = (
            conn.execute(
                select(prompts).where(
                    prompts.c.id == prompt_id, prompts.c.workspace_id == workspace_id
                )
            )
        ).first()
        if base is None:
            raise NotFound(f"prompt {prompt_id!r} not found", details={"id": prompt_id})
        top = (
            conn.execute(
                select(func.max(prompts.c.version)).where(prompts.c.family_id == base.family_id)
            )
        ).scalar_one()
        conn.execute(
            update(prompts).where(prompts.c.family_id == base.family_id).values(is_latest=False)
        )
        new = new or new_id("prm")
        conn.execute(
            prompts.insert().values(
                id=new,
                workspace_id=workspace_id,
                family_id=base.family_id,
                name=base.name,
                version=top + 1,
                is_latest=True,
                description=description if description is not None else base.description,
                tags=list(base.tags or []),
                source=source.value,
                job_id=job_id,
                created_at=self._clock.now(),
                **_body_columns(body),
            )
        )
        return new

    async def get(self, workspace_id: str, prompt_id: str) -> Prompt:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(prompts).where(
                        prompts.c.id == prompt_id, prompts.c.workspace_id == workspace_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"prompt {prompt_id!r} not found", details={"id": prompt_id})
        return prompt_from_row(row)

    async def page(
        self, workspace_id: str, *, name: str | None, limit: int, offset: int
    ) -> Page[Prompt]:
        """The latest version of each prompt, newest first."""
        where = [prompts.c.workspace_id == workspace_id, prompts.c.is_latest.is_(True)]
        if name is not None:
            where.append(prompts.c.name == name)
        async with self._db.read() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(prompts).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                select(prompts)
                .where(*where)
                .order_by(prompts.c.created_at.desc(), prompts.c.id)
                .limit(limit)
                .offset(offset)
            )
            items = [prompt_from_row(r) for r in rows]
        return Page(items, total, limit, offset)

    async def versions(self, workspace_id: str, prompt_id: str) -> list[Prompt]:
        base = await self.get(workspace_id, prompt_id)
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(prompts)
                .where(prompts.c.family_id == base.family_id)
                .order_by(prompts.c.version)
            )
            return [prompt_from_row(r) for r in rows]
