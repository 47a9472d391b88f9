"""Real ``whetstone serve`` processes for the reliability tests: start one on a data dir,
``kill -9`` it, restart it on the same data dir and port; follow a job's events over the
WebSocket; read a dead server's store as the crash left it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.support.provider_env import PROVIDER_VARIABLES
from whetstone.samples import load_sample

START_TIMEOUT = 30.0  # a server process starts in about 2 s
WAIT = 30.0  # the bound of every wait on a job; a passing test needs a fraction of it
TERMINAL = frozenset({"job_complete", "job_failed", "job_cancelled"})
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

Event = dict[str, Any]
Match = Callable[[Event], bool]


def child_env(**settings: str) -> dict[str, str]:
    """The environment of a server process: this one without any WHETSTONE_*, provider or
    proxy variable, plus ``settings`` (WHETSTONE_* names). The rate limiter is off: the
    tests read the event log as often as they like."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WHETSTONE_")
        and k not in PROVIDER_VARIABLES
        and k.lower() not in PROXY_VARIABLES
    }
    env.update(
        WHETSTONE_RATE_LIMIT_PER_MINUTE="0",
        # one secret for every node, so that a node on another data dir (another node id)
        # accepts the keys of the first; short leases and polls, so that it takes over fast
        WHETSTONE_SECRET_KEY="reliability-secret-0123456789",
        WHETSTONE_LEASE_SECONDS="2",
        WHETSTONE_POLL_SECONDS="0.2",
        **settings,
    )
    return env


class Server:
    """``whetstone serve`` in a child process on ``data_dir`` (port 0: any free one). Its
    stderr is read by a thread, which is how the start is awaited (on the server's own
    words, not a timer). Blocking: from a test's loop, start it with ``asyncio.to_thread``."""

    def __init__(self, data_dir: Path, env: Mapping[str, str], port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.lines: list[str] = []
        self.env = dict(env)
        self._ready = threading.Event()
        self._started = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> Server:
        command = [
            sys.executable,
            "-c",
            "from whetstone.cli.main import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        if not self._ready.wait(START_TIMEOUT) or not self._started or not self._listens(deadline):
            self.kill()
            raise AssertionError(f"whetstone serve did not start: {self.log}")
        return self

    def _listens(self, deadline: float) -> bool:
        """uvicorn logs its start before it listens on a socket it was given, and nothing
        after: until a connection is accepted, wait (10 ms at a time, bounded) on the
        process, which also notices if it exits instead."""
        assert self._proc is not None
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5.0).close()
                return True
            except ConnectionRefusedError:
                pass
            try:
                self._proc.wait(0.01)
                return False
            except subprocess.TimeoutExpired:
                pass
        return False

    def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            found = re.search(r" on http://127\.0\.0\.1:(\d+) ", line)
            if found:
                self.port = int(found.group(1))
            if "Application startup complete" in line:
                self._started = True
                self._ready.set()
        self._ready.set()  # the process ended: wake a waiting start()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/optimization"

    @property
    def key(self) -> str:
        """The local admin key ``whetstone serve`` leaves in its data dir."""
        return (self.data_dir / "cli.key").read_text().strip()

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no last write, nothing flushed by the server."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGKILL)
        self._end(10.0)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not stopped within 15 s; returns its exit code."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        return self._end(10.0)

    def _end(self, seconds: float) -> int:
        if self._proc is None:
            return 0
        code = self._proc.wait(seconds)
        if self._reader is not None:
            self._reader.join(seconds)
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        return code


def restart(dead: Server) -> Server:
    """The same node again: a new process on the dead one's data dir and port (blocking).
    It frees the leases of its previous run as it starts."""
    return Server(dead.data_dir, dead.env, dead.port).start()


def take_over(dead: Server, data_dir: Path) -> Server:
    """Another node: a process with a data dir (so a node id) of its own, on the dead one's
    database and port (blocking). It may claim the job once the dead node's lease ran out."""
    database = f"sqlite+aiosqlite:///{dead.data_dir / 'whetstone.db'}"
    return Server(data_dir, {**dead.env, "WHETSTONE_DATABASE_URL": database}, dead.port).start()


def node_id(server: Server) -> str:
    return (server.data_dir / "node.id").read_text().strip()


# -- REST --------------------------------------------------------------------------------


@asynccontextmanager
async def rest(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {server.key}"}
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, trust_env=False, timeout=10.0
    ) as client:
        yield client


async def _data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


@dataclass(frozen=True)
class Task:
    """What a job is made of: a prompt template, its dataset items and the job config."""

    template: str
    items: list[dict[str, Any]]
    config: dict[str, Any]


def sample_task(name: str, **config: Any) -> Task:
    sample = load_sample(name)
    return Task(sample["prompt"]["template"], sample["dataset"]["items"], config)


async def start_job(server: Server, task: Task) -> str:
    async with rest(server) as client:
        prompt = await _data(
            await client.post("/api/prompts", json={"name": "p", "template": task.template}), 201
        )
        dataset = await _data(
            await client.post("/api/datasets", json={"name": "d", "items": task.items}), 201
        )
        body = {"promptId": prompt["id"], "datasetId": dataset["id"], "config": task.config}
        job = await _data(await client.post("/api/optimizations", json=body), 201)
    return str(job["id"])


@dataclass(frozen=True)
class Finished:
    """A terminal job as the REST API shows it: the job, its Results and its event log."""

    job: dict[str, Any]
    results: dict[str, Any]
    events: list[Event]

    @property
    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = self.job["usage"]
        return usage


async def finished(server: Server, job_id: str) -> Finished:
    async with rest(server) as client:
        job = await _data(await client.get(f"/api/optimizations/{job_id}"))
        results = await _data(await client.get(f"/api/optimizations/{job_id}/results"))
        events: list[Event] = []
        while True:
            page = await client.get(
                f"/api/optimizations/{job_id}/events",
                params={"afterEventId": len(events), "limit": 5000},
            )
            body = page.json()
            events += body["data"]
            if not body["meta"]["hasMore"]:
                break
    return Finished(job, results, events)


# -- the WebSocket -------------------------------------------------------------------------


async def follow(server: Server, job_id: str, until: Match) -> list[Event]:
    """The job's events from id 1, over ``/ws/optimization`` (first-message auth,
    ``afterEventId`` 0), up to the first one ``until`` accepts; bounded by :data:`WAIT`."""
    seen: list[Event] = []
    async with asyncio.timeout(WAIT), connect(server.ws_url, proxy=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": server.key}))
        assert json.loads(await ws.recv())["type"] == "authenticated"
        await ws.send(json.dumps({"type": "subscribe", "jobId": job_id, "afterEventId": 0}))
        async for frame in ws:
            message = json.loads(frame)
            kind = message["type"]
            assert kind != "error", message
            batch = message["data"] if kind == "replay" else [message.get("event")]
            for event in batch if kind in ("replay", "event") else []:
                assert event["id"] == len(seen) + 1, (event["id"], len(seen))
                seen.append(event)
                if until(event):
                    return seen
    raise AssertionError(f"the stream of {job_id} ended before the awaited event: {seen[-1:]}")


def terminal(event: Event) -> bool:
    return event["eventType"] in TERMINAL


def event_is(kind: str, iteration: int, **data: Any) -> Match:
    """Matches the event of type ``kind`` in ``iteration`` whose data has ``data``."""

    def match(event: Event) -> bool:
        return (
            event["eventType"] == kind
            and event["iteration"] == iteration
            and all(event["data"].get(k) == v for k, v in data.items())
        )

    return match


# -- the store as a crash left it ----------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A job's row and checkpoint, read straight from the SQLite file."""

    status: str
    last_event_id: int
    lease_owner: str | None
    checkpoint_step: int | None
    phase: str | None


def read_only(data_dir: Path) -> sqlite3.Connection:
    """The data dir's database, read-only: reading it changes nothing the restart sees."""
    return sqlite3.connect(f"file:{data_dir / 'whetstone.db'}?mode=ro", uri=True)


def stored_job(data_dir: Path, job_id: str) -> Stored:
    with read_only(data_dir) as db:
        status, last, owner = db.execute(
            "SELECT status, last_event_id, lease_owner FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        row = db.execute("SELECT step, state FROM checkpoints WHERE job_id = ?", (job_id,))
        checkpoint = row.fetchone()
    db.close()
    if checkpoint is None:
        return Stored(status, last, owner, None, None)
    return Stored(status, last, owner, checkpoint[0], json.loads(checkpoint[1])["phase"])


def cached_responses(data_dir: Path) -> int:
    with read_only(data_dir) as db:
        (count,) = db.execute("SELECT count(*) FROM llm_cache").fetchone()
    db.close()
    return int(count)


# -- comparing runs ------------------------------------------------------------------------


def scrub(value: Any, ids: Mapping[str, str], drop: frozenset[str] = frozenset()) -> Any:
    """``value`` without timestamps (and the keys in ``drop``), with this run's ids named."""
    if isinstance(value, dict):
        return {
            k: scrub(v, ids, drop) for k, v in value.items() if k != "timestamp" and k not in drop
        }
    if isinstance(value, list):
        return [scrub(v, ids, drop) for v in value]
    if isinstance(value, str):
        return ids.get(value, value)
    return value


def run_ids(run: Finished) -> dict[str, str]:
    job = run.job
    ids = {job["id"]: "<job>", job["promptId"]: "<prompt>", job["datasetId"]: "<dataset>"}
    if job.get("resultPromptId") and job["resultPromptId"] != job["promptId"]:
        ids[job["resultPromptId"]] = "<result prompt>"
    return ids


def comparable_events(run: Finished, drop: frozenset[str] = frozenset()) -> list[Any]:
    ids = run_ids(run)
    return [
        (e["id"], e["eventType"], e["iteration"], e["stage"], scrub(e["data"], ids, drop))
        for e in run.events
    ]


def comparable_results(run: Finished, drop: frozenset[str] = frozenset()) -> Any:
    return scrub(run.results, run_ids(run), drop)


def assert_one_clean_log(run: Finished) -> None:
    """Ids 1..N with no gap or duplicate, and exactly one terminal event, the last."""
    ids = [e["id"] for e in run.events]
    assert ids == list(range(1, len(ids) + 1)), ids
    kinds = [e["eventType"] for e in run.events]
    assert [k in TERMINAL for k in kinds].count(True) == 1, kinds[-3:]
    assert kinds[-1] == "job_complete", run.events[-1]
    assert run.job["lastEventId"] == len(ids)
    assert run.job["status"] == "completed"


# -- the jobs ------------------------------------------------------------------------------

# A dry run on the capitals sample, three iterations of two candidates with a fixed seed,
# every simulated call taking 60 ms: about 2 s from start to end, and a kill right after a
# given event lands in the step that follows it.
SIM_TASK = sample_task(
    "capitals",
    maxIterations=3,
    candidatesPerIteration=2,
    seed=7,
    dryRun=True,
    tuningParams={"simLatencyMs": 60},
)


class Reference:
    """An uninterrupted run to compare with, going on in a server of its own."""

    def __init__(self, server: Server, job_id: str) -> None:
        self._server = server
        self._job_id = job_id
        self._run: Finished | None = None

    async def run(self) -> Finished:
        """The finished run (awaited once, then kept)."""
        if self._run is None:
            await follow(self._server, self._job_id, terminal)
            self._run = await finished(self._server, self._job_id)
        return self._run
