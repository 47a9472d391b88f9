"""Serving the app: the socket, uvicorn's server with hooks, and a whole server on a thread.

``whetstone serve`` binds the socket itself (so a busy port is a clear message and the URL
is known before it starts) and runs :class:`HookedServer` in the foreground.
``whetstone demo`` runs an :class:`EmbeddedServer`: the same app on a background thread with
its own event loop, while the main thread follows the job.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from whetstone.cli.errors import CliError
from whetstone.cli.local import connect_url
from whetstone.server.app import create_app
from whetstone.settings import Settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free one); ``OSError`` if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_or_any(host: str, port: int) -> socket.socket:
    """``host:port``, or any free port on ``host`` when that one is taken."""
    try:
        return bind(host, port)
    except OSError:
        return bind(host, 0)


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup, plus Whetstone's own loggers (``whetstone.*``) on the same
    stderr handler and format, at ``level``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["whetstone"] = {
        "handlers": ["default"],
        "level": level.upper() if level != "trace" else "DEBUG",
        "propagate": False,
    }
    return config


def server_config(
    settings: Settings, *, log_level: str | None = None, own_loggers: bool = False
) -> uvicorn.Config:
    """``log_level`` overrides the settings' (the demo's quiet server); it also turns off
    the access log. ``own_loggers`` puts Whetstone's loggers on uvicorn's handler (for a
    process that is only the server: ``whetstone serve``; an embedded server leaves the
    host process's logging alone). Open HTTP requests (an SSE stream never ends by itself)
    get ``shutdown_grace_seconds`` to finish when the server stops, then are cancelled."""
    level = log_level or settings.log_level
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=level,
        log_config=log_config(level) if own_loggers else LOGGING_CONFIG,
        ws_max_size=settings.ws_max_frame_bytes,
        access_log=log_level is None,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
    )


class HookedServer(uvicorn.Server):
    """uvicorn's server, setting ``ready`` once it listens and calling ``on_shutdown`` after
    it has shut down (also after a SIGTERM, which uvicorn re-raises only afterwards)."""

    def __init__(
        self, config: uvicorn.Config, on_shutdown: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._on_shutdown = on_shutdown

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            if self._on_shutdown is not None:
                self._on_shutdown()


class EmbeddedServer:
    """A Whetstone server (API, runner, WebSocket) on a daemon thread, on ``sock``."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self._sock = sock
        host, port = sock.getsockname()[:2]
        self.url = connect_url(str(host), int(port))
        self._server = HookedServer(server_config(settings, log_level="warning"))
        self._thread = threading.Thread(target=self._serve, name="whetstone-server", daemon=True)
        self._ended = threading.Event()
        self._error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start(), not lost
            self._error = exc
        finally:
            self._ended.set()
            self._server.ready.set()  # wake start() if it never got there

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self._thread.start()
        if not self._server.ready.wait(timeout) or self._ended.is_set():
            self.stop()
            reason = f": {self._error!r}" if self._error else ""
            raise CliError(f"the embedded server did not start on {self.url}{reason}")

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C interrupts it with KeyboardInterrupt)."""
        self._ended.wait()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.close()
