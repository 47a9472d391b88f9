"""``whetstone serve`` as a real process: it answers on loopback, and keys made by
``whetstone keys create`` on its data dir (before or while it runs) work against it."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import invoke
from tests.cli.test_keys import create_key
from tests.support.process import read_until
from whetstone import __version__

START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(proc: subprocess.Popen[bytes], base_url: str) -> httpx.Response:
    """Wait (bounded) until the process logs that it has started, then ask its health:
    the wait is on the process's own words, not on a timer."""
    read_until(proc, b"Application startup complete", START_TIMEOUT)
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        return client.get("/api/health")


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    for name in ("WHETSTONE_SECRET_KEY", "WHETSTONE_DATA_DIR", "WHETSTONE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from whetstone.cli.main import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base_url = f"http://127.0.0.1:{port}"
        health = wait_healthy(proc, base_url)
        assert health.status_code == 200
        assert health.json()["data"] == {"status": "ok", "version": __version__}
        yield base_url, data_dir
    finally:
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("whetstone serve did not stop on SIGTERM within 10 s")
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")
    assert not (data_dir / "server.json").exists()  # removed when it stopped
    # a clean shutdown (uvicorn re-raises SIGTERM once it has shut down)
    assert b"Application shutdown complete" in stderr, stderr.decode(errors="replace")
    assert proc.returncode in (0, -signal.SIGTERM), stderr.decode(errors="replace")


def test_serve_answers_and_accepts_keys_created_while_it_runs(
    server: tuple[str, Path],
) -> None:
    base_url, data_dir = server
    assert (data_dir / "whetstone.db").exists()
    key = create_key(data_dir)
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        assert client.get("/api/prompts").status_code == 401
        bad = client.get("/api/prompts", headers={"Authorization": "Bearer wst_nope_nope"})
        assert bad.status_code == 401
        ok = client.get("/api/prompts", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["data"] == []
        other = create_key(data_dir, "--workspace", "other")
        made = client.post(
            "/api/prompts",
            headers={"x-api-key": key},
            json={"name": "p", "template": "Answer: {question}"},
        )
        assert made.status_code == 201, made.text
        prompt_id = made.json()["data"]["id"]
        hidden = client.get(f"/api/prompts/{prompt_id}", headers={"x-api-key": other})
        assert hidden.status_code == 404


def test_serve_leaves_its_url_and_a_local_key_for_the_cli(
    server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --url and no key, a CLI command on the same machine finds the server and its
    local admin key through the data dir."""
    base_url, data_dir = server
    record = json.loads((data_dir / "server.json").read_text())
    assert record["url"] == base_url
    assert isinstance(record["pid"], int)
    key_file = data_dir / "cli.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert data_dir.stat().st_mode & 0o777 == 0o700  # the database and secrets: owner only
    monkeypatch.setenv("WHETSTONE_DATA_DIR", str(data_dir))
    made = invoke("prompts", "create", "local", "--template", "Hi {name}")
    assert made.exit_code == 0, (made.stdout, made.stderr)
    listed = invoke("prompts", "list", "--json")
    assert [p["name"] for p in json.loads(listed.stdout)["items"]] == ["local"]
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        headers = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
        assert client.get("/api/prompts", headers=headers).status_code == 200


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke("serve", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_serve_stops_on_sigterm_with_an_sse_stream_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SSE stream of a running job never ends by itself; SIGTERM still stops the server
    after WHETSTONE_SHUTDOWN_GRACE_SECONDS."""
    for name in ("WHETSTONE_SECRET_KEY", "WHETSTONE_DATA_DIR", "WHETSTONE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHETSTONE_SHUTDOWN_GRACE_SECONDS", "1")
    data_dir = tmp_path / "data"
    port = free_port()
    command = [
        sys.executable, "-c", "from whetstone.cli.main import main; main()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(proc, base_url).status_code == 200
        headers = {"Authorization": f"Bearer {create_key(data_dir)}"}
        with httpx.Client(base_url=base_url, timeout=10.0, headers=headers) as client:
            prompt = client.post("/api/prompts", json={"name": "p", "template": "Q: {q}"})
            items = [{"input": {"q": "2+2"}, "expectedOutput": "4"}]
            dataset = client.post("/api/datasets", json={"name": "d", "items": items})
            config = {"dryRun": True, "maxIterations": 50, "tuningParams": {"simLatencyMs": 500}}
            job = client.post(
                "/api/optimizations",
                json={
                    "promptId": prompt.json()["data"]["id"],
                    "datasetId": dataset.json()["data"]["id"],
                    "config": config,
                },
            ).json()["data"]
            path = f"/api/optimizations/{job['id']}/stream?afterEventId=0"
            with client.stream("GET", path) as stream:
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("id: ")) == "id: 1"
                proc.terminate()  # the stream is still open
                _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    text = stderr.decode(errors="replace")
    assert "Application shutdown complete" in text, text
    assert proc.returncode in (0, -signal.SIGTERM), text
    assert "timeout graceful shutdown exceeded" in text  # the stream was cut, not awaited


@pytest.mark.parametrize(("level", "shown"), [("info", True), ("warning", False)])
def test_whetstone_loggers_share_uvicorns_handler_and_level(level: str, shown: bool) -> None:
    script = (
        "import logging.config\n"
        "from whetstone.cli.embedded import log_config\n"
        f"logging.config.dictConfig(log_config({level!r}))\n"
        "logging.getLogger('whetstone.runner').info('resuming 1 optimization(s)')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert ("resuming 1 optimization(s)" in done.stderr) is shown, done.stderr


def test_an_unknown_log_level_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "WHETSTONE_LOG_LEVEL": "loud"}
    command = [sys.executable, "-c", "from whetstone.cli.main import main; main()", "serve",
               "--port", "0", "--data-dir", str(tmp_path / "data")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode != 0
    assert "Invalid setting: WHETSTONE_LOG_LEVEL: Input should be 'critical'" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_database_from_a_newer_whetstone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    create_key(data_dir)  # makes the database at this version's schema
    with sqlite3.connect(data_dir / "whetstone.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHETSTONE_")}
    command = [sys.executable, "-c", "from whetstone.cli.main import main; main()", "serve",
               "--port", "0", "--data-dir", str(data_dir)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 1
    assert "written by a newer Whetstone" in done.stderr
    assert "Traceback" not in done.stderr
