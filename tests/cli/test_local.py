"""The local admin key and ``server.json``: written privately, checked against the store, and
sent only to the server they belong to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from whetstone.cli import local
from whetstone.cli.session import Globals, resolve_target
from whetstone.security import KeyHasher
from whetstone.settings import Settings
from whetstone.store.sql import SQLStore


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def authenticates(settings: Settings, key: str) -> bool:
    store = SQLStore(settings.resolved_database_url, KeyHasher(settings.server_secret()))
    try:
        await store.start()
        return await store.keys.authenticate(key) is not None
    finally:
        await store.close()


async def test_local_key_is_private_stable_and_repaired(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = await local.ensure_local_key(settings)
    path = settings.data_dir / local.KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert await authenticates(settings, key.secret)
    assert await local.ensure_local_key(settings) == key  # kept across starts
    path.write_text("wst_000000000000_stale\n")  # e.g. the database was wiped
    repaired = await local.ensure_local_key(settings)
    assert repaired.secret != key.secret
    assert repaired.workspace_id == key.workspace_id  # the same workspace, default
    assert local.read_key(settings.data_dir) == repaired.secret
    assert await authenticates(settings, repaired.secret)


def test_server_record(tmp_path: Path) -> None:
    local.write_server(tmp_path, "http://127.0.0.1:9000")
    assert (tmp_path / local.SERVER_FILE).stat().st_mode & 0o777 == 0o600
    found = local.read_server(tmp_path)
    assert found is not None
    assert (found.url, found.pid) == ("http://127.0.0.1:9000", os.getpid())
    local.clear_server(tmp_path, pid=os.getpid() + 1)  # not ours: kept
    assert local.read_server(tmp_path) is not None
    local.clear_server(tmp_path)
    assert local.read_server(tmp_path) is None
    local.write_server(tmp_path, "http://127.0.0.1:9000", pid=dead_pid())
    assert local.read_server(tmp_path) is None  # its process is gone
    (tmp_path / local.SERVER_FILE).write_text("{not json")
    assert local.read_server(tmp_path) is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://127.0.0.1:8000", "http://localhost:8000/", True),
        ("http://[::1]:8000", "http://127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8001", False),
        ("http://127.0.0.1:8000", "https://127.0.0.1:8000", False),
        ("http://example.com", "http://example.com:80", True),
        ("http://example.com:8000", "http://127.0.0.1:8000", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b", False),
    ],
)
def test_same_server(a: str, b: str, same: bool) -> None:
    assert local.same_server(a, b) is same


def test_connect_url() -> None:
    assert local.connect_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert local.connect_url("::", 8000) == "http://[::1]:8000"
    assert local.connect_url("10.0.0.5", 80) == "http://10.0.0.5:80"


def test_which_server_and_key_a_command_uses(cli_env: Path) -> None:
    none = resolve_target(Globals())
    assert (none.url, none.api_key) == ("http://127.0.0.1:8000", None)

    local.write_server(cli_env, "http://127.0.0.1:9123")
    (cli_env / local.KEY_FILE).write_text("wst_local_key\n")
    found = resolve_target(Globals())
    assert (found.url, found.api_key) == ("http://127.0.0.1:9123", "wst_local_key")
    assert found.key_source == str(cli_env / local.KEY_FILE)

    alias = resolve_target(Globals(url="http://localhost:9123"))
    assert alias.api_key == "wst_local_key"  # the same server by another name
    other = resolve_target(Globals(url="http://example.com:9123"))
    assert (other.url, other.api_key) == ("http://example.com:9123", None)  # never leaked
    given = resolve_target(Globals(api_key="wst_given", key_source="WHETSTONE_API_KEY"))
    assert (given.url, given.api_key, given.key_source) == (
        "http://127.0.0.1:9123",
        "wst_given",
        "WHETSTONE_API_KEY",
    )
