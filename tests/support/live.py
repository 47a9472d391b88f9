"""A real uvicorn server on a free loopback port, in the test's own event loop, with the
runner running in the background: for tests that need real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn

from whetstone.server.app import create_app
from whetstone.server.services import Services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn's server with an event set once it listens (it only has a flag)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@dataclass
class LiveServer:
    services: Services
    port: int
    server: uvicorn.Server

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/optimization"


@contextlib.asynccontextmanager
async def live_server(
    services: Services, *, start_runner: bool = True
) -> AsyncIterator[LiveServer]:
    """Serve ``services`` (store already started) until the block ends."""
    port = free_port()
    config = uvicorn.Config(
        create_app(services=services),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_max_size=services.settings.ws_max_frame_bytes,
        lifespan="off",
    )
    server = _Server(config)
    if start_runner and services.runner is not None:
        await services.runner.start()
    task = asyncio.create_task(server.serve())
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            raise RuntimeError(f"uvicorn did not start on port {port}")
        yield LiveServer(services, port, server)
    finally:
        ready.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
