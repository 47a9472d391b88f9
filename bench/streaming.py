"""Streaming benchmark: WebSocket fan-out, latency, memory and replay, next to raw websockets.

    python bench/streaming.py            # the full run, about 2 minutes on 2 cores
    python bench/streaming.py --quick    # a smoke run, under a minute

Every scenario runs against two servers, each in its own process on 127.0.0.1 and on
uvloop: Whetstone (the app under uvicorn on a temporary SQLite store; each event is written
with ``store.jobs.write`` and then ``bus.publish``ed, one event per write, as the runner
does) and a raw ``websockets`` server that keeps its connections in a set and
``broadcast``s frames of the same shape and size. The load generator is this process: all
clients in one asyncio loop, on a minimal RFC 6455 client so that its own cost stays small
and the same for both servers. No client offers compression. Every client checks that the
ids it receives are contiguous and each seen once. Prints a table per scenario and writes
JSON (default bench/results/streaming.json).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple, cast

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

SCRIPT = Path(__file__).resolve()
HOST = "127.0.0.1"  # loopback only
WS_PATH = "/ws/optimization"
KINDS = ("whetstone", "raw")
CONNECT_AT_ONCE = 64  # handshakes + subscribes in flight while opening N clients
SETTLE_SECONDS = 1.0  # before reading RSS
PUBLISH_MAX_SECONDS = 120.0

FANOUT_RATIO = 0.5
LATENCY_P99_MS = 10.0
MEMORY_RATIO = 2.0
REPLAY_PER_SECOND = 50_000


# Fan-out publishes events the way the runner writes a step: several in one transaction,
# so that the figure measures delivery. The last row writes one event per transaction:
# that is the store's own write rate, reported beside it.
FANOUT_BATCH = 50


class Plan(NamedTuple):
    fanout: tuple[tuple[int, int, int], ...]  # (subscribers, events, events per write)
    repeats: int  # fan-out and replay runs per row; the median is reported
    latency: tuple[int, float, float]  # subscribers, events per second, seconds
    idle: int  # connections for the memory scenario
    replay: tuple[int, ...]  # stored events per replay row


FULL = Plan(
    ((1, 3000, FANOUT_BATCH), (100, 500, FANOUT_BATCH), (1000, 200, FANOUT_BATCH), (1, 1000, 1)),
    3,
    (100, 100.0, 8.0),
    1000,
    (10_000, 100_000),
)
QUICK = Plan(
    ((1, 200, FANOUT_BATCH), (10, 100, FANOUT_BATCH), (50, 40, FANOUT_BATCH), (1, 100, 1)),
    1,
    (10, 50.0, 1.0),
    50,
    (1_000, 5_000),
)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed, as ``uvicorn.run`` (so ``whetstone serve``) picks."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return None
    return cast(Callable[[], asyncio.AbstractEventLoop], uvloop.new_event_loop)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# -- the load generator's client ---------------------------------------------------------


class Wire(asyncio.Protocol):
    """Just enough RFC 6455 for a load generator: one handshake without extensions, server
    frames parsed straight from the buffer, masked client frames."""

    def __init__(self, port: int, key: str, on_message: Callable[[bytes, float], None]) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None
        self._on_message = on_message
        self._request = (
            f"GET {WS_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        ).encode()
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        self._upgraded = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        _resolve(self.lost)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self._buf[:end]).split(b"\r\n", 1)[0]
            if status.split(b" ")[1:2] != [b"101"]:
                self.opened.set_exception(ConnectionError(f"handshake refused: {status!r}"))
                self.close()
                return
            del self._buf[: end + 4]
            self._upgraded = True
            _resolve(self.opened)
        self._parse(now)

    def _parse(self, now: float) -> None:
        buf, pos, size = self._buf, 0, len(self._buf)
        while size - pos >= 2:
            first, length, head = buf[pos], buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(first, payload, now)
        if pos:
            del buf[:pos]

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode in (0x0, 0x1, 0x2):
            if not first & 0x80:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self._on_message(payload, now)
        elif opcode == 0x9:
            self._send(0xA, payload)
        elif opcode == 0x8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close()

    def send_text(self, text: str) -> None:
        self._send(0x1, text.encode())

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
            self._transport.close()

    def _send(self, opcode: int, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        n = len(data)
        if n < 126:
            header = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
        self._transport.write(header + mask + masked)


class Subscriber:
    """One client subscribed to one job. It counts what it receives and checks that the ids
    are contiguous and each seen once; ``done`` resolves at the last expected id or when
    the connection is lost."""

    def __init__(
        self, port: int, key: str, job_id: str, *, after: int | None, count: int, latency: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        self.wire = Wire(port, key, self._on_message)
        self.subscribed: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.wire.lost.add_done_callback(lambda _: _resolve(self.done))
        self.job_id, self.after, self.count = job_id, after, count
        self.next_id = self.until = 0
        self.received = self.gaps = self.duplicates = self.frame_bytes = 0
        self.errors: list[str] = []
        self.sent_at = self.last_received = 0.0
        self.first_published: float | None = None
        self.latencies: list[float] | None = [] if latency else None

    def subscribe(self) -> None:
        command: dict[str, Any] = {"type": "subscribe", "jobId": self.job_id}
        if self.after is not None:
            command["afterEventId"] = self.after
        self.sent_at = time.time()
        self.wire.send_text(json.dumps(command))

    def _on_message(self, payload: bytes, now: float) -> None:
        message = orjson.loads(payload)
        kind = message.get("type")
        if kind == "event":
            self.frame_bytes = self.frame_bytes or len(payload)
            self._event(message["event"], now)
        elif kind == "replay":
            for event in message["data"]:
                self._event(event, now)
        elif kind == "subscribed":
            head = message["headEventId"]
            self.next_id = (head if self.after is None else self.after) + 1
            self.until = head + self.count if self.after is None else head
            _resolve(self.subscribed)
            if self.next_id > self.until:
                _resolve(self.done)
        elif kind == "error":
            self.errors.append(str(message.get("code")))

    def _event(self, event: dict[str, Any], now: float) -> None:
        event_id = event["id"]
        if event_id < self.next_id:
            self.duplicates += 1
            return
        self.gaps += event_id - self.next_id
        self.next_id = event_id + 1
        self.received += 1
        self.last_received = now
        if self.first_published is None or self.latencies is not None:
            published = datetime.fromisoformat(event["timestamp"]).timestamp()
            self.first_published = self.first_published or published
            if self.latencies is not None:
                self.latencies.append(now - published)
        if event_id >= self.until:
            _resolve(self.done)

    @property
    def missing(self) -> int:
        """Ids skipped plus the expected ids that never came."""
        return self.gaps + max(0, self.until - self.next_id + 1)


async def open_subscribers(
    server: ServerProcess,
    job_id: str,
    n: int,
    *,
    after: int | None = None,
    count: int = 0,
    latency: bool = False,
) -> list[Subscriber]:
    """``n`` clients, each authenticated (header) and subscribed to ``job_id``."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    subs = [
        Subscriber(server.port, server.key, job_id, after=after, count=count, latency=latency)
        for _ in range(n)
    ]

    async def connect(sub: Subscriber) -> None:
        async with gate:
            await loop.create_connection(lambda: sub.wire, HOST, server.port)
            await sub.wire.opened
            sub.subscribe()
            await sub.subscribed

    try:
        async with asyncio.timeout(30 + n / 20):
            await asyncio.gather(*(connect(sub) for sub in subs))
    except BaseException:
        await close_all(subs)
        raise
    return subs


async def wait_done(subs: Sequence[Subscriber], seconds: float) -> None:
    await asyncio.wait([sub.done for sub in subs], timeout=seconds)


async def close_all(subs: Sequence[Subscriber]) -> None:
    for sub in subs:
        sub.wire.close()
    if subs:
        await asyncio.wait([sub.wire.lost for sub in subs], timeout=10)


def tally(subs: Sequence[Subscriber], expected: int) -> dict[str, Any]:
    return {
        "deliveries": sum(s.received for s in subs),
        "expected": expected,
        "gaps": sum(s.missing for s in subs),
        "duplicates": sum(s.duplicates for s in subs),
        "errors": sorted({e for s in subs for e in s.errors}),
        "closedByServer": sum(1 for s in subs if s.wire.close_code is not None),
    }


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
        settings = Settings(data_dir=Path(tmp), secret_key="bench-secret-0123456789")
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


# -- scenarios --------------------------------------------------------------------------


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


async def fanout_once(server: ServerProcess, n: int, m: int, batch: int) -> dict[str, Any]:
    subs = await open_subscribers(server, server.live_job, n, count=m)
    try:
        status = await server.publish(subs, m, 0, batch)
    finally:
        await close_all(subs)
    firsts = [s.first_published for s in subs if s.first_published is not None]
    seconds = max(s.last_received for s in subs) - min(firsts) if firsts else float("nan")
    result = tally(subs, n * m)
    return {
        **result,
        "seconds": seconds,
        "deliveriesPerSecond": result["deliveries"] / seconds if seconds > 0 else 0.0,
        "publishSeconds": status["seconds"],
        "publishedPerSecond": status["published"] / status["seconds"] if status["seconds"] else 0,
        "frameBytes": max(s.frame_bytes for s in subs),
    }


def _sum_runs(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    total = {k: sum(r[k] for r in runs) for k in ("deliveries", "expected", "gaps", "duplicates")}
    values = [r[key] for r in runs]
    return {key: statistics.median(values), **total, "runs": runs}


async def fanout(kind: str, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    async with ServerProcess(kind) as server:
        await server.warm_up()
        for n, m, batch in plan.fanout:
            runs = [await fanout_once(server, n, m, batch) for _ in range(plan.repeats)]
            sums = _sum_runs(runs, "deliveriesPerSecond")
            rows.append({"subscribers": n, "events": m, "batch": batch, **sums})
            _progress(f"fan-out {kind:9} {n:5} subscribers x {m} events done")
    return rows


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(kind: str, plan: Plan) -> dict[str, Any]:
    n, rate, seconds = plan.latency
    count = int(rate * seconds)
    async with ServerProcess(kind) as server:
        await server.warm_up()
        subs = await open_subscribers(server, server.live_job, n, count=count, latency=True)
        try:
            await server.publish(subs, count, rate)
        finally:
            await close_all(subs)
    ordered = sorted(ms * 1000 for s in subs for ms in s.latencies or ())
    # each event's first delivery: the write and publish, before the fan-out adds its share
    per_event = zip(*(s.latencies or () for s in subs), strict=False)
    firsts = sorted(min(one) * 1000 for one in per_event)
    _progress(f"latency {kind:9} done")
    return {
        "subscribers": n,
        "eventsPerSecond": rate,
        "seconds": seconds,
        "samples": len(ordered),
        "p50Ms": _percentile(ordered, 0.50),
        "p99Ms": _percentile(ordered, 0.99),
        "maxMs": ordered[-1] if ordered else float("nan"),
        "firstDeliveryP50Ms": _percentile(firsts, 0.50),
        **tally(subs, n * count),
    }


async def memory(kind: str, plan: Plan) -> dict[str, Any]:
    async with ServerProcess(kind) as server:
        await server.warm_up()
        await asyncio.sleep(SETTLE_SECONDS)
        before = server.rss_kib()
        subs = await open_subscribers(server, server.live_job, plan.idle)
        try:
            await asyncio.sleep(SETTLE_SECONDS)
            after = server.rss_kib()
        finally:
            await close_all(subs)
    _progress(f"memory  {kind:9} done")
    return {
        "connections": plan.idle,
        "rssBeforeKiB": before,
        "rssAfterKiB": after,
        "kibPerConnection": (after - before) / plan.idle,
        **tally(subs, 0),
    }


async def replay_once(server: ServerProcess, size: int) -> dict[str, Any]:
    subs = await open_subscribers(server, server.replay_jobs[size], 1, after=0)
    try:
        await wait_done(subs, 30 + size / 5000)
    finally:
        await close_all(subs)
    (sub,) = subs
    seconds = sub.last_received - sub.sent_at
    return {
        **tally(subs, size),
        "seconds": seconds,
        "eventsPerSecond": sub.received / seconds if seconds > 0 else 0.0,
    }


async def replay(kind: str, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    async with ServerProcess(kind, preload=plan.replay) as server:
        for size in plan.replay:
            runs = [await replay_once(server, size) for _ in range(plan.repeats)]
            rows.append({"events": size, **_sum_runs(runs, "eventsPerSecond")})
            _progress(f"replay  {kind:9} {size} events done")
    return rows


async def run_plan(plan: Plan) -> dict[str, Any]:
    fan = {kind: await fanout(kind, plan) for kind in KINDS}
    lat = {kind: await latency(kind, plan) for kind in KINDS}
    mem = {kind: await memory(kind, plan) for kind in KINDS}
    rep = {kind: await replay(kind, plan) for kind in KINDS}
    fanout_rows = []
    for w, r in zip(fan["whetstone"], fan["raw"], strict=True):
        ratio = w["deliveriesPerSecond"] / r["deliveriesPerSecond"]
        row = {
            "subscribers": w["subscribers"],
            "events": w["events"],
            "batch": w["batch"],
            "whetstone": w,
            "raw": r,
        }
        fanout_rows.append({**row, "ratio": ratio, "target": FANOUT_RATIO})
    replay_rows = []
    for w, r in zip(rep["whetstone"], rep["raw"], strict=True):
        row = {"events": w["events"], "whetstone": w, "raw": r}
        replay_rows.append({**row, "target": REPLAY_PER_SECOND})
    w_mem, r_mem = mem["whetstone"]["kibPerConnection"], mem["raw"]["kibPerConnection"]
    scenarios = {
        "fanout": fanout_rows,
        "latency": [{**lat, "target": {"p99Ms": LATENCY_P99_MS}}],
        "memory": [{**mem, "ratio": w_mem / r_mem if r_mem > 0 else None, "target": MEMORY_RATIO}],
        "replay": replay_rows,
    }
    sides = [row[k] for rows in scenarios.values() for row in rows for k in KINDS]
    integrity = {k: sum(side[k] for side in sides) for k in ("gaps", "duplicates")}
    return {"scenarios": scenarios, "integrity": integrity}


# -- report -----------------------------------------------------------------------------


def _meets(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _integrity(row: dict[str, Any]) -> str:
    w, r = row["whetstone"], row["raw"]
    return f"{w['gaps']}/{w['duplicates']} {r['gaps']}/{r['duplicates']}"


def print_report(report: dict[str, Any], plan: Plan) -> None:
    s = report["scenarios"]
    frame = s["fanout"][0]["whetstone"]["runs"][0]["frameBytes"]
    print(
        f"\nFan-out: deliveries/s to N clients of one job, events published as fast as "
        f"possible, {FANOUT_BATCH} per store write as a runner step writes them "
        f"({frame}-byte frames; median of {plan.repeats}); the last row writes one event "
        "per transaction: the store's own rate"
    )
    print(
        f"{'subscribers':>11} {'events':>6} {'per write':>9} {'whetstone/s':>12} {'raw/s':>10} "
        f"{'ratio':>6} {'target >= 50%':>13} {'stored events/s':>15}  gaps/dups w r"
    )
    for row in s["fanout"]:
        w, r = row["whetstone"], row["raw"]
        writes = statistics.median(run["publishedPerSecond"] for run in w["runs"])
        print(
            f"{row['subscribers']:11,} {row['events']:6,} {row['batch']:9,} "
            f"{w['deliveriesPerSecond']:12,.0f} "
            f"{r['deliveriesPerSecond']:10,.0f} {row['ratio']:6.0%} "
            f"{_meets(row['ratio'] >= FANOUT_RATIO):>13} {writes:15,.0f}  {_integrity(row)}"
        )
    (lat,) = s["latency"]
    w = lat["whetstone"]
    print(
        f"\nLatency publish -> receive: {w['subscribers']} subscribers x "
        f"{w['eventsPerSecond']:.0f} events/s for {w['seconds']:.0f} s"
    )
    print(
        f"{'server':9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'samples':>8} "
        f"{'first delivery p50 ms':>21}  gaps/dups"
    )
    for kind in KINDS:
        x = lat[kind]
        print(
            f"{kind:9} {x['p50Ms']:7.2f} {x['p99Ms']:7.2f} {x['maxMs']:7.2f} "
            f"{x['samples']:8,} {x['firstDeliveryP50Ms']:21.2f}  {x['gaps']}/{x['duplicates']}"
        )
    ratio = w["p99Ms"] / lat["raw"]["p99Ms"]
    print(
        f"whetstone p99 {w['p99Ms']:.2f} ms = {ratio:.1f}x raw "
        f"({_meets(w['p99Ms'] <= LATENCY_P99_MS)} the p99 <= 10 ms target)"
    )
    (mem,) = s["memory"]
    print(f"\nMemory per idle subscribed connection ({mem['whetstone']['connections']:,} open)")
    print(f"{'server':9} {'RSS before MiB':>14} {'RSS after MiB':>13} {'KiB/connection':>14}")
    for kind in KINDS:
        x = mem[kind]
        print(
            f"{kind:9} {x['rssBeforeKiB'] / 1024:14.1f} {x['rssAfterKiB'] / 1024:13.1f} "
            f"{x['kibPerConnection']:14.1f}"
        )
    ok = mem["ratio"] is not None and mem["ratio"] <= MEMORY_RATIO
    shown = f"{mem['ratio']:.2f}x" if mem["ratio"] is not None else "n/a"
    print(f"whetstone / raw = {shown} ({_meets(ok)} the <= 2x target)")
    print(f"\nReplay: one client subscribes with afterEventId=0 (median of {plan.repeats})")
    print(
        f"{'events':>7} {'whetstone ev/s':>14} {'raw ev/s':>10} {'ratio':>6} "
        f"{'target >= 50k/s':>15}  gaps/dups w r"
    )
    for row in s["replay"]:
        w, r = row["whetstone"]["eventsPerSecond"], row["raw"]["eventsPerSecond"]
        print(
            f"{row['events']:7,} {w:14,.0f} {r:10,.0f} {w / r:6.0%} "
            f"{_meets(w >= REPLAY_PER_SECOND):>15}  {_integrity(row)}"
        )
    i = report["integrity"]
    ok = i["gaps"] == 0 and i["duplicates"] == 0
    print(
        f"\nIds checked by every client in every scenario: {i['gaps']} gaps, "
        f"{i['duplicates']} duplicates ({_meets(ok)} the zero target)"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and M, under a minute")
    parser.add_argument("--out", type=Path, default=SCRIPT.parent / "results" / "streaming.json")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--preload", default="", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=900, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        preload = [int(x) for x in args.preload.split(",") if x]
        serve_main(args.serve, preload, args.lifetime)
        return {}

    plan = QUICK if args.quick else FULL
    raise_fd_limit()
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        report = runner.run(run_plan(plan))
    report.update(
        mode="quick" if args.quick else "full",
        seconds=time.perf_counter() - started,
        machine={"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    )
    print_report(report, plan)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out} ({report['seconds']:.0f} s)")
    return report


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
