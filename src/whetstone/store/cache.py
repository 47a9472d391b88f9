"""The response cache in the store (table ``llm_cache``), keyed as ``providers/cache.py`` says."""

from __future__ import annotations

from sqlalchemy import Connection, select

from whetstone.clock import Clock
from whetstone.providers.base import Completion
from whetstone.store.database import Database
from whetstone.store.tables import llm_cache


class SQLResponseCache:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, key: str) -> Completion | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(llm_cache).where(llm_cache.c.key == key))).first()
        if row is None:
            return None
        return Completion(row.text, row.input_tokens, row.output_tokens, row.model)

    async def put(self, key: str, workspace_id: str, model: str, completion: Completion) -> None:
        """Keep the first answer for a key (two identical calls in flight both store)."""

        def insert(conn: Connection) -> None:
            exists = conn.execute(select(llm_cache.c.key).where(llm_cache.c.key == key)).first()
            if exists is None:
                conn.execute(
                    llm_cache.insert().values(
                        key=key,
                        workspace_id=workspace_id,
                        model=model,
                        text=completion.text,
                        input_tokens=completion.input_tokens,
                        output_tokens=completion.output_tokens,
                        created_at=self._clock.now(),
                    )
                )

        await self._db.run_write(insert)
