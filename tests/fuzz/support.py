"""Support for the hostile-input tests: a real server on a thread with its own event loop (so
synchronous clients, hypothesis and schemathesis can drive it from the test thread), the
server's resident memory, and a raw WebSocket client that sends any frame byte for byte.

Loopback only; every wait is bounded by ``TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ctypes
import gc
import hashlib
import random
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from whetstone.cli.embedded import HookedServer, bind
from whetstone.server.app import build_services, create_app
from whetstone.server.services import Services
from whetstone.settings import Settings

TIMEOUT = 30.0  # the bound on any single wait; a healthy run needs a small fraction of it
SECRET = "fuzz-secret-key-0123456789abcdef"

T = TypeVar("T")


class _Server(HookedServer):
    """uvicorn's server that remembers the loop it runs on."""

    loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)


class ThreadServer:
    """The whole app (store, bus, WebSocket route, optionally the runner) served by uvicorn on
    a daemon thread, on a free loopback port; its lifespan starts and stops the services."""

    def __init__(
        self,
        data_dir: Path,
        *,
        run_jobs: bool = False,
        ws_max_size: int | None = None,
        **overrides: Any,
    ) -> None:
        """``overrides`` are Settings fields. uvicorn refuses WebSocket messages over
        ``ws_max_size`` itself; by default that is the app's own limit, as in `whetstone
        serve`."""
        self.settings = Settings(data_dir=data_dir, secret_key=SECRET, **overrides)
        self.services: Services = build_services(self.settings, run_jobs=run_jobs)
        self._sock = bind("127.0.0.1", 0)
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(services=self.services),
            log_level="warning",
            access_log=False,
            ws_max_size=ws_max_size or self.settings.ws_max_frame_bytes,
            lifespan="on",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._serve, name="fuzz-server", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/optimization"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._error = exc
        finally:
            self._server.ready.set()

    def start(self) -> None:
        self._thread.start()
        if not self._server.ready.wait(TIMEOUT) or not self._server.started:
            raise RuntimeError(f"the server did not start: {self._error!r}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(TIMEOUT)
        with contextlib.suppress(OSError):
            self._sock.close()
        assert not self._thread.is_alive(), "the server thread did not stop"

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
        """Run ``coro`` on the server's loop (the store and bus live there) and wait for it."""
        assert self._server.loop is not None
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._server.loop)
        return future.result(timeout)

    def key(self, workspace: str = "default") -> str:
        """A new API key of ``workspace``, made through the store as `whetstone keys create`
        does."""

        async def make() -> str:
            ws = await self.services.store.keys.ensure_workspace(workspace)
            _, secret = await self.services.store.keys.create_key(ws.id)
            return secret

        return self.call(make())

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return httpx.Client(base_url=self.url, headers=headers, trust_env=False, timeout=TIMEOUT)

    def healthy(self) -> bool:
        with self.client() as client:
            response = client.get("/api/health")
        return response.status_code == 200 and response.json()["data"]["status"] == "ok"


@contextlib.contextmanager
def thread_server(data_dir: Path, **kwargs: Any) -> Iterator[ThreadServer]:
    server = ThreadServer(data_dir, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_kib() -> int:
    """This process's resident set size (the server runs in it), from /proc/self/status."""
    return _status_kib("VmRSS")


def settle_rss_kib() -> int:
    """The resident size once garbage is collected and malloc has handed freed memory back,
    so that what a later phase adds is not hidden in memory freed by an earlier one."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_kib()


@dataclass
class RssGrowth:
    """Resident sizes around a phase, in KiB: settled before, the peak during it (VmHWM,
    reset at the start, so a whole dataset loaded for one request and freed at once still
    shows; the size at the end where the kernel cannot reset it), settled after."""

    before: int = 0
    peak: int = 0
    after: int = 0

    @property
    def growth(self) -> int:
        return max(self.peak, self.after) - self.before


@contextlib.contextmanager
def rss_growth() -> Iterator[RssGrowth]:
    measured = RssGrowth(before=settle_rss_kib())
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        resettable = True
    except OSError:
        resettable = False
    yield measured
    measured.peak = _status_kib("VmHWM") if resettable else rss_kib()
    measured.after = settle_rss_kib()


# -- a raw WebSocket client ------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawWebSocket:
    """RFC 6455 by hand: the handshake, then frames with any opcode and any payload bytes (a
    text frame that is not UTF-8, say), masked as a client must. Server frames are read
    one at a time; the mask keys come from a seeded RNG so a run is reproducible."""

    def __init__(self, port: int, headers: dict[str, str], path: str = "/ws/optimization"):
        self._rng = random.Random(port)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        nonce = base64.b64encode(self._rng.randbytes(16))
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {nonce.decode()}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"handshake refused: {head!r}")
            head += chunk
        head, _, self._buffer = head.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        assert b" 101 " in status, head
        accept = base64.b64encode(hashlib.sha1(nonce + _GUID).digest())
        assert accept in head, head

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        header = bytes([(0x80 if fin else 0) | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = self._rng.randbytes(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the TCP connection")
            self._buffer += chunk
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def recv_frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read(8))
        assert not second & 0x80, "a server frame must not be masked"
        return first & 0x0F, self._read(size)

    def close_code(self) -> int | None:
        """Read frames until the server's close frame; its code (None without one)."""
        while True:
            try:
                opcode, payload = self.recv_frame()
            except ConnectionError:
                return None
            if opcode == OP_CLOSE:
                return int(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
