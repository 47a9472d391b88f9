"""Shared fixtures: a real SQLite store in a temp dir, the real app in-process, keys of two
workspaces. The runner is not started in the background: tests drive it with
``run_until_idle()`` so every run is deterministic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import Api
from whetstone.clock import ManualClock
from whetstone.engine.base import EngineFactory
from whetstone.engine.placeholder import PlaceholderEngine
from whetstone.server.app import build_services, create_app
from whetstone.server.services import Services
from whetstone.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789",
        control_wait_seconds=0,
        lease_seconds=30,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(tick=0.001)


@pytest.fixture
def engine_factory() -> EngineFactory:
    """Override in a test module (or with ``@pytest.mark.parametrize``) to inject an engine."""
    return PlaceholderEngine


@pytest.fixture
async def services(
    settings: Settings, clock: ManualClock, engine_factory: EngineFactory
) -> AsyncIterator[Services]:
    svc = build_services(settings, clock=clock, engine_factory=engine_factory, run_jobs=True)
    await svc.store.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _key_headers(services: Services, workspace: str) -> dict[str, str]:
    ws = await services.store.keys.ensure_workspace(workspace)
    _, secret = await services.store.keys.create_key(ws.id)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def auth(services: Services) -> dict[str, str]:
    """Headers with a key of workspace ``default``."""
    return await _key_headers(services, "default")


@pytest.fixture
async def other_auth(services: Services) -> dict[str, str]:
    """Headers with a key of a second workspace, ``other``."""
    return await _key_headers(services, "other")


@pytest.fixture
def api(client: httpx.AsyncClient, auth: dict[str, str]) -> Api:
    return Api(client, auth)


@pytest.fixture
def other_api(client: httpx.AsyncClient, other_auth: dict[str, str]) -> Api:
    return Api(client, other_auth)


@pytest.fixture
def event_types() -> Callable[[list[dict[str, Any]]], list[str]]:
    return lambda events: [e["eventType"] for e in events]
