"""``whetstone keys create``: a key printed alone on the last line, valid for the data dir."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whetstone.cli.main import app
from whetstone.domain.job import ApiKey
from whetstone.security import KeyHasher
from whetstone.settings import Settings
from whetstone.store.sql import SQLStore


@pytest.fixture(autouse=True)
def no_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WHETSTONE_SECRET_KEY", "WHETSTONE_DATA_DIR", "WHETSTONE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def create_key(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["keys", "create", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines, "nothing on stdout"
    key = lines[-1]
    assert key == key.strip()
    assert " " not in key
    return key


async def _authenticate(data_dir: Path, *keys: str) -> list[ApiKey | None]:
    settings = Settings(data_dir=data_dir)
    store = SQLStore(settings.resolved_database_url, KeyHasher(settings.server_secret()))
    try:
        await store.start()
        return [await store.keys.authenticate(key) for key in keys]
    finally:
        await store.close()


def authenticate(data_dir: Path, *keys: str) -> list[ApiKey | None]:
    return asyncio.run(_authenticate(data_dir, *keys))


def test_key_is_alone_on_the_last_line_and_authenticates(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"  # does not exist yet
    key = create_key(data_dir)
    assert key.startswith("wst_")
    assert (data_dir / "secret.key").exists()
    [found] = authenticate(data_dir, key)
    assert found is not None
    [forged] = authenticate(data_dir, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert forged is None


def test_key_does_not_authenticate_against_another_data_dir(tmp_path: Path) -> None:
    key = create_key(tmp_path / "one")
    create_key(tmp_path / "two")
    assert authenticate(tmp_path / "two", key) == [None]


def test_keys_are_distinct_and_share_the_default_workspace(tmp_path: Path) -> None:
    first, second = create_key(tmp_path), create_key(tmp_path)
    assert first != second
    a, b = authenticate(tmp_path, first, second)
    assert a is not None
    assert b is not None
    assert a.id != b.id
    assert a.workspace_id == b.workspace_id


def test_workspace_option_creates_keys_in_distinct_workspaces(tmp_path: Path) -> None:
    alpha = create_key(tmp_path, "--workspace", "alpha")
    beta = create_key(tmp_path, "--workspace", "beta")
    alpha_again = create_key(tmp_path, "--workspace", "alpha", "--name", "ci")
    default = create_key(tmp_path)
    a, b, a2, d = authenticate(tmp_path, alpha, beta, alpha_again, default)
    assert a is not None
    assert b is not None
    assert a2 is not None
    assert d is not None
    assert a.workspace_id != b.workspace_id
    assert a2.workspace_id == a.workspace_id
    assert d.workspace_id not in {a.workspace_id, b.workspace_id}
    assert a2.name == "ci"


def test_data_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHETSTONE_DATA_DIR", str(tmp_path / "env"))
    result = CliRunner().invoke(app, ["keys", "create"])
    assert result.exit_code == 0, result.output
    [found] = authenticate(tmp_path / "env", result.stdout.splitlines()[-1])
    assert found is not None
