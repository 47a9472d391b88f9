"""``whetstone backup``: a copy of a data dir taken while a real server runs a dry-run job,
restored into a fresh data dir and served by a new server, has the prompts, datasets, jobs
and events, the old API key authenticates against it, and the interrupted job resumes there
(docs/operations.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import Cli, assert_clean_failure, invoke
from tests.cli.test_jobs import start_job, until
from tests.support.api import Api
from tests.support.live import live_server
from whetstone.clock import ManualClock
from whetstone.engine.factory import OptimizerFactory
from whetstone.sdk import AsyncWhetstone
from whetstone.security import KeyHasher, load_or_create_secret
from whetstone.server.app import build_services
from whetstone.settings import Settings
from whetstone.store.database import sqlite_url
from whetstone.store.sql import SQLStore

WAIT = 30.0  # the bound on waiting for a job's event


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No WHETSTONE_SECRET_KEY: the server secret is DATA_DIR/secret.key, as by default."""
    return Settings(data_dir=tmp_path / "data", control_wait_seconds=0)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def all_events(api: Api, job_id: str) -> list[dict[str, Any]]:
    path = f"/api/optimizations/{job_id}/events?afterEventId=0&limit=5000"
    body = await api.call("GET", path)
    assert body["meta"]["hasMore"] is False
    events: list[dict[str, Any]] = body["data"]
    return events


def backed_up_job(db: Path, job_id: str) -> tuple[str, int, int]:
    """(status, last event id, events stored) of the job in the backup's database."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        status, last = conn.execute(
            "SELECT status, last_event_id FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        (count,) = conn.execute(
            "SELECT count(*) FROM events WHERE job_id = ?", (job_id,)
        ).fetchone()
    return str(status), int(last), int(count)


async def test_a_backup_taken_mid_job_restores_into_a_new_server(
    cli: Cli, api: Api, key: str, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    data = settings.data_dir
    job_id = await start_job(api, maxIterations=50, tuningParams={"simLatencyMs": 5})
    await until(cli, job_id, "iteration_start")  # running: every step writes to the database

    dest = tmp_path / "backup"
    result = await cli.ok("backup", str(dest), "--data-dir", str(data))
    assert f"Backed up {data} to {dest}: whetstone.db (" in result.stdout
    assert sorted(p.name for p in dest.iterdir()) == ["node.id", "secret.key", "whetstone.db"]
    assert mode(dest) == 0o700
    assert mode(dest / "secret.key") == 0o600
    assert mode(dest / "whetstone.db") == 0o600
    assert (dest / "secret.key").read_bytes() == (data / "secret.key").read_bytes()
    assert (dest / "node.id").read_text() == (data / "node.id").read_text()
    status, last, count = backed_up_job(dest / "whetstone.db", job_id)
    assert status == "running"
    assert last == count > 0  # a consistent snapshot: the job row and its events agree

    # the server carried on meanwhile
    await cli.ok("optimize", "cancel", job_id)
    await until(cli, job_id, "job_cancelled")
    original = await all_events(api, job_id)
    prompts = (await api.call("GET", "/api/prompts"))["data"]
    datasets = (await api.call("GET", "/api/datasets"))["data"]

    # restore: the backup becomes the data dir of a new server
    restored = tmp_path / "restored"
    shutil.copytree(dest, restored)
    svc = build_services(
        Settings(data_dir=restored, control_wait_seconds=0),
        clock=clock,
        engine_factory=OptimizerFactory(),
    )
    await svc.store.start()
    try:
        async with live_server(svc) as server, httpx.AsyncClient(base_url=server.http) as http:
            again = Api(http, api.headers)  # the key made before the backup
            assert (await again.call("GET", "/api/prompts"))["data"] == prompts
            assert (await again.call("GET", "/api/datasets"))["data"] == datasets
            [job] = (await again.call("GET", "/api/optimizations"))["data"]
            assert job["id"] == job_id
            # the same node (node.id came along): the job resumes at once from its checkpoint
            async with AsyncWhetstone(server.http, key) as client, asyncio.timeout(WAIT):
                async for event in client.optimization.stream(job_id, after_event_id=last):
                    assert event.id == last + 1
                    break
            await again.call("POST", f"/api/optimizations/{job_id}/cancel")
            async with AsyncWhetstone(server.http, key) as client, asyncio.timeout(WAIT):
                async for event in client.optimization.stream(job_id, after_event_id=last):
                    if event.type == "job_cancelled":
                        break
            events = await all_events(again, job_id)
    finally:
        await svc.stop()
    assert events[:last] == original[:last]  # what the backup held, byte for byte
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["eventType"] for e in events].count("job_cancelled") == 1


async def test_without_secret_key_no_stored_key_authenticates(
    cli: Cli, key: str, settings: Settings, tmp_path: Path
) -> None:
    """Why the backup has secret.key: the database alone verifies no key."""
    dest = tmp_path / "backup"
    await cli.ok("backup", str(dest), "--data-dir", str(settings.data_dir))
    for secret in (dest / "secret.key", tmp_path / "a-new-secret.key"):
        store = SQLStore(
            sqlite_url(dest / "whetstone.db"), KeyHasher(load_or_create_secret(secret))
        )
        await store.start()
        try:
            found = await store.keys.authenticate(key)
        finally:
            await store.close()
        assert (found is not None) == (secret.parent == dest)


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    result = invoke("backup", str(tmp_path / "b1"), "--data-dir", str(empty))
    assert_clean_failure(result, f"no database at {empty / 'whetstone.db'}", "--data-dir")
    assert not (tmp_path / "b1").exists()

    data = tmp_path / "data"
    assert invoke("keys", "create", "--data-dir", str(data)).exit_code == 0  # makes the db
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("mine")
    result = invoke("backup", str(taken), "--data-dir", str(data))
    assert_clean_failure(result, "exists and is not an empty directory")
    assert [p.name for p in taken.iterdir()] == ["something"]

    monkeypatch.setenv("WHETSTONE_DATABASE_URL", "postgresql+asyncpg://u:hunter2@db/whetstone")
    result = invoke("backup", str(tmp_path / "b2"), "--data-dir", str(data))
    assert_clean_failure(result, "copies SQLite files", "own tools")
    assert "hunter2" not in result.stderr


def test_json_and_a_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHETSTONE_SECRET_KEY", "a-secret-from-the-environment")
    data = tmp_path / "data"
    assert invoke("keys", "create", "--data-dir", str(data)).exit_code == 0
    dest = tmp_path / "backup"
    dest.mkdir()  # an empty directory will do
    result = invoke("--json", "backup", str(dest), "--data-dir", str(data))
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    summary = json.loads(result.stdout)
    assert summary == {
        "dest": str(dest),
        "database": str(data / "whetstone.db"),
        "databaseBytes": (dest / "whetstone.db").stat().st_size,
        "secretKey": False,
        "nodeId": False,
    }
    assert "WHETSTONE_SECRET_KEY" in result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["whetstone.db"]
