"""The Whetstone and raw websockets servers, each run as a child process."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import uvicorn
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

from whetstone.clock import new_id
from whetstone.domain.codec import encode_event, event_frame
from whetstone.domain.dataset import NewItem
from whetstone.domain.events import Event, IterationStart, PendingEvent, stage_for
from whetstone.domain.prompt import PromptBody
from whetstone.server.app import build_services, create_app
from whetstone.server.streaming import REPLAY_BATCH
from whetstone.server.ws import protocol as frames
from whetstone.settings import Settings
from whetstone.store.base import EventPage, JobUpdate, Store
from wsbench.client import Subscriber, close_all, open_subscribers, wait_done
from wsbench.common import HOST, PUBLISH_MAX_SECONDS, SCRIPT, _loop_factory, raise_fd_limit

# -- the servers (child processes) -------------------------------------------------------


class Publisher:
    """Publishes ``count`` events at ``rate`` per second (0: as fast as it can) in the
    background; ``status`` says how far it got."""

    def __init__(self, publish_many: Callable[[str, int, int], Awaitable[None]]) -> None:
        self._many = publish_many  # (job, first index, how many): one store write
        self._task: asyncio.Task[None] | None = None
        self._status: dict[str, Any] = {"published": 0, "seconds": 0.0, "done": True}

    def start(self, job_id: str, count: int, rate: float, batch: int = 1) -> dict[str, Any]:
        if self._task is not None and not self._task.done():
            return {"error": "a publish run is in progress"}
        self._status = {"published": 0, "seconds": 0.0, "done": False}
        self._task = asyncio.create_task(self._run(job_id, count, rate, max(1, batch)))
        return {"started": count}

    def status(self) -> dict[str, Any]:
        return dict(self._status)

    async def _run(self, job_id: str, count: int, rate: float, batch: int) -> None:
        started = time.perf_counter()
        try:
            i = 0
            while i < count:
                if rate > 0:
                    delay = started + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if time.perf_counter() - started > PUBLISH_MAX_SECONDS:
                    break
                n = 1 if rate > 0 else min(batch, count - i)
                await self._many(job_id, i + 1, n)
                i += n
                self._status["published"] = i
        except Exception as exc:
            self._status["error"] = repr(exc)
        finally:
            self._status.update(seconds=time.perf_counter() - started, done=True)


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


def _announce(sock: socket.socket, key: str, live: str, stored: dict[int, str]) -> None:
    info = {"port": sock.getsockname()[1], "key": key, "liveJob": live, "replayJobs": stored}
    print(json.dumps(info), flush=True)


def _event(job_id: str, event_id: int, iteration: int) -> Event:
    now = datetime.now(UTC)
    payload = IterationStart(iteration, now)
    return Event(event_id, job_id, iteration, stage_for(payload, iteration), now, payload)


async def _preload(store: Store, job_id: str, size: int) -> None:
    for start in range(1, size + 1, 1000):
        now = datetime.now(UTC)
        events = [
            PendingEvent.of(IterationStart(i, now), iteration=i, timestamp=now)
            for i in range(start, min(size, start + 999) + 1)
        ]
        await store.jobs.write(job_id, events, JobUpdate())


async def _serve_whetstone(sock: socket.socket, preload: list[int], stop: asyncio.Event) -> None:
    with tempfile.TemporaryDirectory(prefix="whetstone-bench-") as tmp:
        # one key opens every connection of the load generator: no rate limit
        settings = Settings(
            data_dir=Path(tmp), secret_key="bench-secret-0123456789", rate_limit_per_minute=0
        )
        svc = build_services(settings, run_jobs=False)
        store = svc.store
        await store.start()
        workspace = await store.keys.ensure_workspace("bench")
        _, key = await store.keys.create_key(workspace.id)
        prompt = await store.prompts.create(workspace.id, "bench", PromptBody("Q: {question}"))
        items = [NewItem({"question": "2+2?"}, "4")]
        dataset = await store.datasets.create(workspace.id, "bench", None, items)

        async def new_job() -> str:
            job = await store.jobs.create(workspace.id, prompt.id, dataset.id, {"dryRun": True})
            return job.id

        live, stored = await new_job(), {}
        for size in preload:
            stored[size] = await new_job()
            await _preload(store, stored[size], size)

        async def publish_many(job_id: str, first: int, n: int) -> None:
            # What the runner does with a step: its events in one write, then publish.
            now = svc.clock.now()
            events = [
                PendingEvent.of(IterationStart(i, now), iteration=i, timestamp=now)
                for i in range(first, first + n)
            ]
            written = await store.jobs.write(job_id, events, JobUpdate())
            await svc.bus.publish(job_id, written)

        publisher = Publisher(publish_many)

        async def publish(
            job: str, count: int, rate: float = 0.0, batch: int = 1
        ) -> dict[str, Any]:
            return publisher.start(job, count, rate, batch)

        async def status() -> dict[str, Any]:
            return publisher.status()

        app = create_app(services=svc)
        app.add_api_route("/bench/publish", publish, methods=["GET"])
        app.add_api_route("/bench/status", status, methods=["GET"])
        config = uvicorn.Config(
            app,
            log_level="warning",
            ws_max_size=64 * 1024,
            timeout_graceful_shutdown=5,
        )
        server = _Uvicorn(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait([serving, ready], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if server.ready.is_set():
            _announce(sock, key, live, stored)
            await stop.wait()
        ready.cancel()
        server.should_exit = True
        await serving


async def _serve_raw(sock: socket.socket, preload: list[int], stop: asyncio.Event) -> None:
    live = new_id("job")  # the same length as Whetstone's, so the same frame size
    stored = {size: new_id("job") for size in preload}
    bodies = {
        stored[size]: [encode_event(_event(stored[size], i, i)) for i in range(1, size + 1)]
        for size in preload
    }
    connections: set[ServerConnection] = set()
    head = 0

    async def publish_many(job_id: str, first: int, n: int) -> None:
        nonlocal head
        for i in range(first, first + n):
            head += 1
            broadcast(connections, event_frame(job_id, encode_event(_event(job_id, head, i))))
        await asyncio.sleep(0)

    publisher = Publisher(publish_many)

    async def replay(ws: ServerConnection, job_id: str, after: int) -> None:
        log = bodies[job_id]
        await ws.send(frames.subscribed(job_id, len(log)))
        for start in range(after, len(log), REPLAY_BATCH):
            end = start + REPLAY_BATCH
            page = EventPage(log[start:end], len(log), end < len(log))
            await ws.send(frames.replay(job_id, page))

    async def handler(ws: ServerConnection) -> None:
        try:
            async for message in ws:
                command = orjson.loads(message)
                job_id = command.get("jobId")
                if command.get("type") != "subscribe":
                    continue
                if job_id == live:
                    connections.add(ws)
                    await ws.send(frames.subscribed(job_id, head))
                elif job_id in bodies:
                    await replay(ws, job_id, command.get("afterEventId") or 0)
        finally:
            connections.discard(ws)

    def control(connection: ServerConnection, request: Request) -> Response | None:
        url = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/bench/publish":
            batch = int(query.get("batch", 1))
            body = publisher.start(query["job"], int(query["count"]), float(query["rate"]), batch)
        elif url.path == "/bench/status":
            body = publisher.status()
        else:
            return None
        return connection.respond(HTTPStatus.OK, json.dumps(body))

    async with serve(handler, sock=sock, process_request=control, max_size=64 * 1024):
        _announce(sock, "raw-needs-no-key", live, stored)
        await stop.wait()


def serve_main(kind: str, preload: list[int], lifetime: float) -> None:
    """A child process: serve until stdin closes or ``lifetime`` seconds have passed."""
    raise_fd_limit()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(lifetime, stop.set)

        def watch_stdin() -> None:
            sys.stdin.buffer.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        serve_ = _serve_whetstone if kind == "whetstone" else _serve_raw
        with _listen() as sock:
            await serve_(sock, preload, stop)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run())


class ServerProcess:
    """A server in a child process, started with ``sys.executable``; it prints where it
    listens on its first line and exits when its stdin closes."""

    def __init__(self, kind: str, preload: Sequence[int] = (), lifetime: float = 900) -> None:
        self.kind, self._preload, self._lifetime = kind, list(preload), lifetime
        self._proc: asyncio.subprocess.Process | None = None
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> ServerProcess:
        args = [str(SCRIPT), "--serve", self.kind]
        args += ["--lifetime", str(self._lifetime)]
        if self._preload:
            args += ["--preload", ",".join(map(str, self._preload))]
        self._proc = proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            if not line:
                raise RuntimeError(f"the {self.kind} server exited before it was ready")
        except BaseException:
            await self._stop()
            raise
        info = json.loads(line)
        self.pid, self.port, self.key = proc.pid, info["port"], info["key"]
        self.live_job: str = info["liveJob"]
        self.replay_jobs = {int(k): v for k, v in info["replayJobs"].items()}
        base = f"http://{HOST}:{self.port}"
        self._http = httpx.AsyncClient(base_url=base, trust_env=False, timeout=30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
        await self._stop()

    async def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def control(self, path: str, **params: Any) -> dict[str, Any]:
        assert self._http is not None
        response = await self._http.get(path, params=params)
        response.raise_for_status()
        return cast(dict[str, Any], response.json())

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    async def publish(
        self, subs: Sequence[Subscriber], count: int, rate: float, batch: int = 1
    ) -> dict[str, Any]:
        """Publish ``count`` live events and wait until every subscriber has them (bounded)."""
        await self.control("/bench/publish", job=self.live_job, count=count, rate=rate, batch=batch)
        bound = 30 + (count / rate if rate else 0) + len(subs) * count / 2000
        await wait_done(subs, bound)
        return await self.control("/bench/status")

    async def warm_up(self) -> None:
        """A few events to a few clients, so that first-use costs stay out of the figures."""
        subs = await open_subscribers(self, self.live_job, 5, count=20)
        try:
            await self.publish(subs, 20, 0)
        finally:
            await close_all(subs)
