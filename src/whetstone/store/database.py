"""Engine set-up and migrations: SQLite in WAL mode by default, any SQLAlchemy async URL works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_writer_engine(engine: AsyncEngine) -> Engine | None:
    """A plain-sqlite3 twin of a file-backed SQLite engine, for the writer thread (none for
    in-memory databases, which a second connection would not see)."""
    url = engine.url
    if engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    twin = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
    )
    event.listen(twin, "connect", _sqlite_pragmas)
    return twin


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Whetstone than this one: nothing is changed."""


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    unknown = sorted(set(current) - known)
    if unknown:
        url = connection.engine.url.render_as_string(hide_password=True)
        raise SchemaTooNew(
            f"the database {url} is at schema revision {', '.join(unknown)}, written by a "
            "newer Whetstone than this one; upgrade Whetstone (or restore a backup made "
            "with this version). Nothing was changed."
        )
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; runs at every start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


class Database:
    """An engine plus the write discipline: on SQLite, writes in this process go one at a time
    (SQLite has one writer anyway; queueing here avoids busy errors between coroutines).

    Hot writes (a runner step: events, counters and checkpoint) are plain functions of a
    sync ``Connection`` given to :meth:`run_write`. On a SQLite file they run as one
    transaction on a dedicated writer thread: one thread hop per transaction instead of
    one per statement, which is what bounds the event rate. Elsewhere they run through the
    async driver with ``run_sync``; the code is the same."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._writer_engine = _sqlite_writer_engine(engine)
        self._writer: ThreadPoolExecutor | None = None
        if self._writer_engine is not None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="whetstone-db-writer")

    async def run_write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` inside one write transaction and return what it returns (an exception
        rolls the transaction back and propagates)."""
        if self._writer is None or self._writer_engine is None:
            async with self.write() as conn:
                return await conn.run_sync(fn)
        writer_engine = self._writer_engine

        def transaction() -> T:
            with writer_engine.begin() as conn:
                return fn(conn)

        assert self._write_lock is not None
        async with self._write_lock:
            return await asyncio.get_running_loop().run_in_executor(self._writer, transaction)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        if self._writer_engine is not None:
            self._writer_engine.dispose()
        await self.engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn
