"""Fixtures of the store tests: a fresh, migrated SQLStore on a temp SQLite file per test,
driven by the shared ``clock`` (a ManualClock ticking 1 ms per reading)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from whetstone.clock import ManualClock
from whetstone.domain.dataset import Dataset, NewItem
from whetstone.domain.job import Job, Workspace
from whetstone.domain.prompt import Prompt, PromptBody
from whetstone.security import KeyHasher
from whetstone.store.sql import SQLStore

HASHER_SECRET = b"k" * 32


def make_store(path: Path, clock: ManualClock) -> SQLStore:
    return SQLStore(f"sqlite+aiosqlite:///{path}", KeyHasher(HASHER_SECRET), clock)


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SQLStore]:
    s = make_store(tmp_path / "w.db", clock)
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def ws(store: SQLStore) -> Workspace:
    return await store.keys.ensure_workspace("default")


@pytest.fixture
async def other_ws(store: SQLStore) -> Workspace:
    return await store.keys.ensure_workspace("other")


@pytest.fixture
async def prompt(store: SQLStore, ws: Workspace) -> Prompt:
    return await store.prompts.create(ws.id, "greeter", PromptBody(template="Hi {name}"))


@pytest.fixture
async def dataset(store: SQLStore, ws: Workspace) -> Dataset:
    items = [NewItem({"name": "a"}, "A"), NewItem({"name": "b"}, "B")]
    return await store.datasets.create(ws.id, "names", None, items)


@pytest.fixture
def config() -> dict[str, Any]:
    return {"maxIterations": 3}


@pytest.fixture
async def job(
    store: SQLStore, ws: Workspace, prompt: Prompt, dataset: Dataset, config: dict[str, Any]
) -> Job:
    return await store.jobs.create(ws.id, prompt.id, dataset.id, config)
