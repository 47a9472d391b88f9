"""The local admin key and the address of the server running on a data dir.

``whetstone serve`` (and ``whetstone demo`` when it starts its own server) writes two files
into its data dir, so that CLI commands on the same machine need no flags:

- ``cli.key`` (mode 0600): an API key of workspace ``default``, made with the store's key
  machinery like ``whetstone keys create``. It is checked against the store at every start
  and replaced if it no longer authenticates (a new secret or a fresh database).
- ``server.json`` (mode 0600): ``{"url", "pid", "dataDir"}`` of the running server; removed
  when it stops. A file whose process is gone is ignored.

The key is only ever sent to the server recorded in ``server.json``, never to another URL.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from whetstone.security import KeyHasher
from whetstone.settings import Settings, default_data_dir
from whetstone.store.sql import SQLStore

KEY_FILE = "cli.key"
SERVER_FILE = "server.json"
DEFAULT_URL = "http://127.0.0.1:8000"
LOCAL_KEY_NAME = "local admin (whetstone serve)"


def cli_data_dir() -> Path:
    """The data dir the CLI looks in: ``WHETSTONE_DATA_DIR``, else the per-user default."""
    value = os.environ.get("WHETSTONE_DATA_DIR")
    return Path(value) if value else default_data_dir()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only (0600), replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


# -- the key ----------------------------------------------------------------------------


def read_key(data_dir: Path) -> str | None:
    try:
        key = (data_dir / KEY_FILE).read_text().strip()
    except OSError:
        return None
    return key or None


def _store(settings: Settings) -> SQLStore:
    """The data dir's store, for a command that works on it directly (not through a server)."""
    settings.ensure_data_dir()
    return SQLStore(settings.resolved_database_url, KeyHasher(settings.server_secret()))


async def create_key(settings: Settings, workspace: str, name: str | None) -> str:
    """A new API key of ``workspace``, made directly in the data dir's store."""
    store = _store(settings)
    try:
        await store.start()
        ws = await store.keys.ensure_workspace(workspace)
        _, secret = await store.keys.create_key(ws.id, name)
        return secret
    finally:
        await store.close()


@dataclass(frozen=True, slots=True)
class LocalKey:
    secret: str
    workspace_id: str


async def ensure_local_key(settings: Settings) -> LocalKey:
    """The data dir's ``cli.key`` and its workspace, the key made (or remade, if it no
    longer authenticates) now."""
    store = _store(settings)
    try:
        await store.start()
        secret = read_key(settings.data_dir)
        if secret is not None:
            found = await store.keys.authenticate(secret)
            if found is not None:
                return LocalKey(secret, found.workspace_id)
        ws = await store.keys.ensure_workspace("default")
        _, secret = await store.keys.create_key(ws.id, LOCAL_KEY_NAME)
    finally:
        await store.close()
    write_private(settings.data_dir / KEY_FILE, secret + "\n")
    return LocalKey(secret, ws.id)


# -- the running server -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    pid: int
    data_dir: Path


def connect_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to ``host``."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def write_server(data_dir: Path, url: str, pid: int | None = None) -> None:
    record = {"url": url, "pid": pid or os.getpid(), "dataDir": str(data_dir)}
    write_private(data_dir / SERVER_FILE, json.dumps(record) + "\n")


def clear_server(data_dir: Path, pid: int | None = None) -> None:
    """Remove ``server.json`` if it is this process's (another server may have replaced it)."""
    found = read_server(data_dir, check_alive=False)
    if found is not None and found.pid == (pid or os.getpid()):
        (data_dir / SERVER_FILE).unlink(missing_ok=True)


def read_server(data_dir: Path, *, check_alive: bool = True) -> LocalServer | None:
    try:
        record = json.loads((data_dir / SERVER_FILE).read_text())
        server = LocalServer(str(record["url"]), int(record["pid"]), data_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if check_alive and not _alive(server.pid):
        return None
    return server


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def same_server(a: str, b: str) -> bool:
    """True when two URLs reach the same server (``localhost`` and ``127.0.0.1`` alike)."""
    x, y = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    if (x.scheme, x.port or _default_port(x.scheme)) != (
        y.scheme,
        y.port or _default_port(y.scheme),
    ):
        return False
    if x.path.rstrip("/") != y.path.rstrip("/"):
        return False
    return x.hostname == y.hostname or (is_loopback(x.hostname) and is_loopback(y.hostname))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
