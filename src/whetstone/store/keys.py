"""Workspaces and API keys (stored as HMAC hashes, compared in constant time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from whetstone.clock import Clock, new_id
from whetstone.domain.job import ApiKey, Workspace
from whetstone.security import KeyHasher, generate_key, split_key
from whetstone.store.database import Database
from whetstone.store.tables import api_keys, workspaces


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        workspace_id=row.workspace_id,
        prefix=row.prefix,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class SQLKeyStore:
    def __init__(self, db: Database, hasher: KeyHasher, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock

    async def ensure_workspace(self, name: str) -> Workspace:
        async with self._db.write() as conn:
            row = (await conn.execute(select(workspaces).where(workspaces.c.name == name))).first()
            if row is None:
                workspace = Workspace(id=new_id("ws"), name=name, created_at=self._clock.now())
                await conn.execute(
                    workspaces.insert().values(
                        id=workspace.id, name=name, created_at=workspace.created_at
                    )
                )
                return workspace
            return Workspace(id=row.id, name=row.name, created_at=row.created_at)

    async def create_key(self, workspace_id: str, name: str | None = None) -> tuple[ApiKey, str]:
        """Returns the stored key and its secret, which is shown once and never stored."""
        secret, parts = generate_key()
        key = ApiKey(
            id=new_id("key"),
            workspace_id=workspace_id,
            prefix=parts.prefix,
            name=name,
            created_at=self._clock.now(),
        )
        async with self._db.write() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=key.id,
                    workspace_id=workspace_id,
                    prefix=key.prefix,
                    key_hash=self._hasher.hash(secret),
                    name=name,
                    created_at=key.created_at,
                )
            )
        return key, secret

    async def authenticate(self, secret: str) -> ApiKey | None:
        parts = split_key(secret)
        if parts is None:
            return None
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(api_keys).where(
                        api_keys.c.prefix == parts.prefix, api_keys.c.revoked_at.is_(None)
                    )
                )
            ).first()
        if row is None or not self._hasher.matches(secret, row.key_hash):
            return None
        return _key(row)

    async def touch(self, key_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id)
                .values(last_used_at=self._clock.now())
            )
