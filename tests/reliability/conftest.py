"""The uninterrupted reference run, shared by the module's tests: :data:`SIM_TASK` on a
server of its own, on a fresh data dir. It runs while the first test crashes its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.reliability.support import SIM_TASK, Reference, Server, child_env, start_job


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    server = Server(tmp_path_factory.mktemp("reference") / "data", child_env()).start()
    try:
        yield Reference(server, asyncio.run(start_job(server, SIM_TASK)))
    finally:
        server.stop()
