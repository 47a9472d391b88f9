"""Fixtures of the CLI tests: an environment without the user's Whetstone variables or data
dir, and a real server (uvicorn on a free loopback port, the runner on, the real optimizer with
the simulator) in the test's own event loop. The CLI runs in a worker thread (``Cli.run``), so
the server's loop keeps running while a command blocks. Run one command at a time: CliRunner
swaps ``sys.stdout`` for the whole process, so two at once would mix their output."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.support.api import Api
from tests.support.live import LiveServer, free_port, live_server
from whetstone.cli.main import app
from whetstone.clock import new_id
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.samples import load_sample
from whetstone.server.services import Services

COMMAND_TIMEOUT = 60.0  # the bound on one CLI command; a healthy one needs a fraction of it
ENV = ("WHETSTONE_URL", "WHETSTONE_API_KEY", "WHETSTONE_SECRET_KEY", "WHETSTONE_DATABASE_URL")


@pytest.fixture(autouse=True)
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No WHETSTONE_* variables from the outside; the CLI's data dir is a fresh temp dir, so
    it never reads or writes the user's own ``cli.key`` or ``server.json``."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "cli-data"
    monkeypatch.setenv("WHETSTONE_DATA_DIR", str(data_dir))
    return data_dir


def invoke(*args: str) -> Result:
    """One ``whetstone`` command in this thread (stdout and stderr captured apart)."""
    return CliRunner().invoke(app, list(args))


@dataclass
class Cli:
    """``whetstone --url <live server> --api-key <key> …`` run off the event loop."""

    url: str
    key: str

    async def run(self, *args: str, key: bool = True) -> Result:
        auth = ["--api-key", self.key] if key else []
        command = ["--url", self.url, *auth, *args]
        return await asyncio.wait_for(asyncio.to_thread(invoke, *command), COMMAND_TIMEOUT)

    async def ok(self, *args: str) -> Result:
        result = await self.run(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def assert_clean_failure(result: Result, *needles: str) -> None:
    """Exit code 1, each needle in stderr, no traceback anywhere."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


@pytest.fixture
async def live(services: Services) -> AsyncIterator[LiveServer]:
    async with live_server(services) as server:
        yield server


@pytest.fixture
def key(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def cli(live: LiveServer, key: str) -> Cli:
    return Cli(live.http, key)


async def sample_ids(api: Api, name: str = "capitals") -> tuple[str, str, str]:
    """A sample's prompt and dataset (uniquely named); returns (prompt id, dataset id, name)."""
    sample = load_sample(name)
    unique = new_id(name, 4)
    prompt = (
        await api.call("POST", "/api/prompts", 201, json={**sample["prompt"], "name": unique})
    )["data"]
    dataset = (
        await api.call("POST", "/api/datasets", 201, json={**sample["dataset"], "name": unique})
    )["data"]
    return prompt["id"], dataset["id"], unique
