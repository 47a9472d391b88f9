"""whetstone.js against a real server: ``test/live_follow.mjs`` follows a simulated
(dry-run) job over the WebSocket and must see every event id 1..N once, in order, then
the terminal event.

Node needs a WebSocket: built in from node 22, behind ``--experimental-websocket`` in
node 20/21 (used when the installed node accepts it); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.streaming.support import sim_job
from tests.support.api import Api
from tests.support.live import LiveServer, live_server
from tests.web.test_js_client import ROOT, node_or_skip
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.server.services import Services

SCRIPT = ROOT / "src" / "whetstone" / "web" / "js" / "test" / "live_follow.mjs"
TIMEOUT = 90.0  # the script gives up after 60 s by itself


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


@pytest.fixture
async def server(services: Services) -> AsyncIterator[LiveServer]:
    async with live_server(services) as live:
        yield live


def node_with_websocket() -> list[str]:
    """The node command line with a global WebSocket, or skip."""
    node = node_or_skip()
    probe = "process.exit(typeof WebSocket === 'function' ? 0 : 1)"
    for flags in ([], ["--experimental-websocket"]):
        done = subprocess.run(
            [node, *flags, "-e", probe], capture_output=True, timeout=30, check=False
        )
        if done.returncode == 0:
            return [node, *flags]
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    pytest.skip(f"node {version} has no WebSocket (node >= 22, or 20/21 with the flag)")


async def test_whetstone_js_follows_a_real_job(
    server: LiveServer, api: Api, auth: dict[str, str]
) -> None:
    command = node_with_websocket()
    key = auth["Authorization"].removeprefix("Bearer ")
    job_id = await sim_job(api, 20)  # ~1 s of run: most events arrive live, not replayed
    proc = await asyncio.create_subprocess_exec(
        *command,
        str(SCRIPT),
        server.http,
        key,
        job_id,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    report = f"exit {proc.returncode}\nstdout:\n{out.decode()}\nstderr:\n{err.decode()}"
    assert proc.returncode == 0, report
    lines: list[dict[str, Any]] = [json.loads(line) for line in out.decode().splitlines()]

    log = await api.events(job_id)
    ids = [line["id"] for line in lines if line["kind"] == "event"]
    assert ids == [e["id"] for e in log] == list(range(1, len(log) + 1)), report
    assert len(ids) > 10
    types = [line["eventType"] for line in lines if line["kind"] == "event"]
    assert types == [e["eventType"] for e in log]
    assert types[-1] == "job_complete"
    assert [line for line in lines if line["kind"] in ("complete", "error")] == [
        {"kind": "complete", "eventType": "job_complete"}
    ]
    states = [line["state"] for line in lines if line["kind"] == "state"]
    assert states[:2] == ["connecting", "connected"], states
    job = next(line for line in lines if line["kind"] == "job")
    assert job == {"kind": "job", "status": "completed", "lastEventId": len(log)}
    results = log[-1]["data"]["results"]
    best = next(line for line in lines if line["kind"] == "best")
    assert best["score"] == results["finalScore"]
    assert best["prompt"] == results["bestPrompt"]
    assert best["eventId"] == len(log)
