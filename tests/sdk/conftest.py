"""Fixtures of the SDK's tests against a real server: uvicorn with the runner on (see
``tests/support/live.py``), reached through a TCP proxy that can cut connections, and
the raw key of workspace ``default``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.sdk.proxy import TcpProxy, tcp_proxy
from tests.support.live import LiveServer, live_server
from whetstone.sdk import ReconnectPolicy
from whetstone.server.services import Services

# Reconnect fast: the tests cut connections on purpose, and a real delay would only slow them.
FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, max_attempts=None)


@pytest.fixture
def key(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def running_server(services: Services) -> AsyncIterator[LiveServer]:
    async with live_server(services) as live:
        yield live


@pytest.fixture
async def proxy(running_server: LiveServer) -> AsyncIterator[TcpProxy]:
    async with tcp_proxy(running_server.port) as p:
        yield p
