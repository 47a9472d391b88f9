"""Migrations: idempotent start, the named revision, a schema equal to ``tables.metadata``,
and SQLite's WAL mode with foreign keys enforced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError

from whetstone.clock import ManualClock
from whetstone.domain.job import Workspace
from whetstone.store.database import SchemaTooNew
from whetstone.store.sql import SQLStore
from whetstone.store.tables import metadata

from .conftest import make_store


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


HEAD = "0002_llm_cache"  # the newest migration


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_version_is_the_newest(store: SQLStore) -> None:
    async with store.db.engine.connect() as conn:
        assert await conn.run_sync(_revision) == HEAD
        rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert [r[0] for r in rows] == [HEAD]


async def test_start_twice_is_idempotent_and_keeps_data(store: SQLStore, ws: Workspace) -> None:
    await store.start()
    await store.start()
    async with store.db.engine.connect() as conn:
        assert await conn.run_sync(_revision) == HEAD
        count = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one()
    assert count == 1
    assert (await store.keys.ensure_workspace("default")).id == ws.id


async def test_reopening_a_migrated_file_keeps_data(tmp_path: Path, clock: ManualClock) -> None:
    first = make_store(tmp_path / "w.db", clock)
    await first.start()
    ws = await first.keys.ensure_workspace("kept")
    await first.close()
    second = make_store(tmp_path / "w.db", clock)
    await second.start()
    try:
        assert (await second.keys.ensure_workspace("kept")).id == ws.id
    finally:
        await second.close()


async def test_schema_matches_metadata(store: SQLStore) -> None:
    async with store.db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}


async def test_sqlite_is_in_wal_mode_with_foreign_keys(store: SQLStore) -> None:
    async with store.db.engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    assert str(mode).lower() == "wal"
    assert fks == 1


async def test_foreign_keys_are_enforced(store: SQLStore) -> None:
    with pytest.raises(IntegrityError):
        async with store.db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, workspace_id, prefix, key_hash, created_at) "
                    "VALUES ('key_x', 'ws_missing', 'p', 'h', '2026-01-01 00:00:00')"
                )
            )


async def test_a_database_from_a_newer_whetstone_is_refused_untouched(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "newer.db"
    first = make_store(path, clock)
    await first.start()
    async with first.db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    await first.close()
    before = path.read_bytes()
    again = make_store(path, clock)
    with pytest.raises(SchemaTooNew, match="9999_from_the_future, written by a newer Whetstone"):
        await again.start()
    await again.close()
    assert path.read_bytes() == before
