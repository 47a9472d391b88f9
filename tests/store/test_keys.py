"""Workspaces and API keys: only an HMAC of a key is stored; authentication is exact."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from whetstone.domain.job import Workspace
from whetstone.security import KeyHasher, split_key
from whetstone.store.sql import SQLStore
from whetstone.store.tables import api_keys

from .conftest import HASHER_SECRET


async def test_ensure_workspace_is_idempotent_by_name(store: SQLStore) -> None:
    first = await store.keys.ensure_workspace("team")
    again = await store.keys.ensure_workspace("team")
    other = await store.keys.ensure_workspace("team-2")
    assert again == first
    assert other.id != first.id
    assert other.name == "team-2"


async def test_raw_key_is_not_stored(store: SQLStore, ws: Workspace) -> None:
    key, secret = await store.keys.create_key(ws.id, name="ci")
    parts = split_key(secret)
    assert parts is not None
    assert key.prefix == parts.prefix
    async with store.db.read() as conn:
        rows = (await conn.execute(select(api_keys))).all()
    assert len(rows) == 1
    stored = [str(v) for v in rows[0]]
    assert all(secret not in v and parts.secret not in v for v in stored)
    assert rows[0].key_hash == KeyHasher(HASHER_SECRET).hash(secret)
    assert rows[0].key_hash != secret


async def test_authenticate_accepts_the_key(store: SQLStore, ws: Workspace) -> None:
    key, secret = await store.keys.create_key(ws.id, name="ci")
    found = await store.keys.authenticate(secret)
    assert found is not None
    assert (found.id, found.workspace_id, found.prefix, found.name) == (
        key.id,
        ws.id,
        key.prefix,
        "ci",
    )


async def test_each_key_finds_its_own_workspace(
    store: SQLStore, ws: Workspace, other_ws: Workspace
) -> None:
    _, mine = await store.keys.create_key(ws.id)
    _, theirs = await store.keys.create_key(other_ws.id)
    found_mine = await store.keys.authenticate(mine)
    found_theirs = await store.keys.authenticate(theirs)
    assert found_mine is not None
    assert found_theirs is not None
    assert found_mine.workspace_id == ws.id
    assert found_theirs.workspace_id == other_ws.id


def _flip_last(s: str) -> str:
    return s[:-1] + ("A" if s[-1] != "A" else "B")


async def test_authenticate_rejects_a_modified_key(store: SQLStore, ws: Workspace) -> None:
    _, secret = await store.keys.create_key(ws.id)
    assert await store.keys.authenticate(_flip_last(secret)) is None
    assert await store.keys.authenticate(secret + "x") is None
    assert await store.keys.authenticate(secret[:-1]) is None
    assert await store.keys.authenticate(secret.upper()) is None


async def test_authenticate_rejects_another_keys_prefix(store: SQLStore, ws: Workspace) -> None:
    _, first = await store.keys.create_key(ws.id)
    _, second = await store.keys.create_key(ws.id)
    a, b = split_key(first), split_key(second)
    assert a is not None
    assert b is not None
    assert await store.keys.authenticate(f"wst_{b.prefix}_{a.secret}") is None
    assert await store.keys.authenticate(f"wst_{a.prefix}_{b.secret}") is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "wst",
        "wst_",
        "wst__",
        "wst_abc",
        "wst_abc_",
        "wst__secret",
        "Bearer wst_abc_def",
        "xyz_0123456789ab_secret",
        "wst_0123456789ab_secret",
        "not a key at all",
        "wst_' OR 1=1 --_x",
    ],
)
async def test_authenticate_rejects_garbage(store: SQLStore, ws: Workspace, garbage: str) -> None:
    await store.keys.create_key(ws.id)
    assert await store.keys.authenticate(garbage) is None


async def test_another_server_secret_rejects_the_key(store: SQLStore, ws: Workspace) -> None:
    _, secret = await store.keys.create_key(ws.id)
    async with store.db.read() as conn:
        stored = (await conn.execute(select(api_keys.c.key_hash))).scalar_one()
    assert not KeyHasher(b"z" * 32).matches(secret, stored)
    assert KeyHasher(HASHER_SECRET).matches(secret, stored)
