"""``SQLStore``: the store on SQLAlchemy (SQLite in WAL mode by default)."""

from __future__ import annotations

from whetstone.clock import Clock, SystemClock
from whetstone.security import KeyHasher
from whetstone.store.cache import SQLResponseCache
from whetstone.store.database import Database, make_engine, migrate
from whetstone.store.datasets import SQLDatasetStore
from whetstone.store.events import SQLEventLog
from whetstone.store.jobs import SQLJobStore
from whetstone.store.keys import SQLKeyStore
from whetstone.store.prompts import SQLPromptStore


class SQLStore:
    def __init__(self, url: str, hasher: KeyHasher, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.db = Database(make_engine(url))
        self.keys = SQLKeyStore(self.db, hasher, self.clock)
        self.prompts = SQLPromptStore(self.db, self.clock)
        self.datasets = SQLDatasetStore(self.db, self.clock)
        self.jobs = SQLJobStore(self.db, self.clock, self.prompts)
        self.events = SQLEventLog(self.db)
        self.cache = SQLResponseCache(self.db, self.clock)

    async def start(self) -> None:
        await migrate(self.db.engine)

    async def close(self) -> None:
        await self.db.close()
