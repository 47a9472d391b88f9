"""Fixtures of the streaming tests: settings a test can change by parametrizing
``settings_overrides``, the raw keys of both workspaces, and a real uvicorn server whose
runner is off (tests publish events themselves) or on (``running_server``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.streaming.support import new_job
from tests.support.api import Api
from tests.support.live import LiveServer, live_server
from whetstone.server.services import Services
from whetstone.settings import Settings


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings fields to change; override the fixture or parametrize it."""
    return {}


@pytest.fixture
def settings(settings: Settings, settings_overrides: dict[str, Any]) -> Settings:
    return Settings.model_validate({**settings.model_dump(), **settings_overrides})


def _secret(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def key(auth: dict[str, str]) -> str:
    """A key of workspace ``default`` (the one ``api`` uses)."""
    return _secret(auth)


@pytest.fixture
def other_key(other_auth: dict[str, str]) -> str:
    """A key of the second workspace, ``other``."""
    return _secret(other_auth)


@pytest.fixture
async def server(services: Services) -> AsyncIterator[LiveServer]:
    """Real uvicorn, runner off: no job moves unless the test moves it."""
    async with live_server(services, start_runner=False) as live:
        yield live


@pytest.fixture
async def running_server(services: Services) -> AsyncIterator[LiveServer]:
    """Real uvicorn with the runner claiming jobs in the background."""
    async with live_server(services) as live:
        yield live


@pytest.fixture
async def job_id(api: Api) -> str:
    """A queued job of workspace ``default``; with the runner off it stays queued."""
    return await new_job(api)
