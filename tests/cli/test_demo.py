"""``whetstone demo``: with no server it starts one in-process, runs a SIMULATED optimization
of a sample to a finished, improved job and prints where to look; with a server it uses it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli, assert_clean_failure, invoke
from tests.support.api import Api
from tests.support.live import free_port
from tests.support.process import read_until
from whetstone.cli.local import KEY_FILE, SERVER_FILE

START_TIMEOUT = 60.0  # the demo's run, in a subprocess; a healthy one needs a few seconds
STOP_TIMEOUT = 20.0


def test_demo_exit_runs_to_an_improved_job(cli_env: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("--url", url, "demo", "--exit")  # the default pace, as a newcomer sees it
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert f"No server at {url}; starting one in this process" in result.stderr
    out = result.stdout
    assert "SIMULATED" in out.split("[1] iteration 0 job_started")[0]  # said before it starts
    assert "0.000 → 1.000" in out
    assert "--- original (prm_" in out
    assert "+++ best (prm_" in out
    web = next(line for line in out.splitlines() if line.startswith("Web UI: "))
    assert f"{url}/ " in web
    assert f"{url}/optimizations/job_" in web
    assert "Traceback" not in out + result.stderr
    assert "Ctrl-C" not in result.stderr  # --exit: it does not wait
    assert (cli_env / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert not (cli_env / SERVER_FILE).exists()  # removed when the embedded server stopped


def test_demo_json_and_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))  # bound, not listening: nothing answers, the port is taken
        port = busy.getsockname()[1]
        result = invoke(
            "--url", f"http://127.0.0.1:{port}", "demo", "--exit", "--json", "--pace-ms", "0",
            "--data-dir", str(tmp_path / "demo"),
        )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    *events, summary = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["eventType"] == "job_complete"
    assert summary["simulated"] is True
    assert summary["results"]["status"] == "completed"
    assert summary["results"]["finalScore"] > summary["results"]["initialScore"]
    assert summary["diff"].startswith("--- original")
    assert f":{port}/" not in summary["url"]  # it took a free port instead
    assert summary["jobUrl"] == f"{summary['url']}optimizations/{summary['jobId']}"
    # the code rides in the fragment, which browsers never send to the server
    assert summary["loginUrl"].startswith(f"{summary['url']}login#code=")
    assert summary["loginUrl"].endswith(f"&next=/optimizations/{summary['jobId']}")
    assert (tmp_path / "demo" / KEY_FILE).exists()


async def test_demo_uses_a_running_server_and_reuses_its_sample(cli: Cli, api: Api) -> None:
    first = await cli.ok("demo", "--exit", "--pace-ms", "0")
    assert "starting one" not in first.stderr
    assert "0.000 → 1.000" in first.stdout
    assert f"Web UI: {cli.url}/" in first.stdout
    link = next(line for line in first.stdout.splitlines() if line.startswith("Signed-in link"))
    code = link.split("#code=", 1)[1].split("&", 1)[0]
    async with httpx.AsyncClient(base_url=cli.url) as browser:  # the server that minted it
        signed_in = await browser.post("/api/auth/login", json={"code": code})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["data"]["apiKey"]
        again = await browser.post("/api/auth/login", json={"code": code})
        assert again.status_code == 401  # once only
    await cli.ok("demo", "--exit", "--pace-ms", "0")
    jobs = (await api.call("GET", "/api/optimizations"))["data"]
    assert len(jobs) == 2
    assert jobs[0]["promptId"] == jobs[1]["promptId"]  # the original version, both times
    assert jobs[0]["datasetId"] == jobs[1]["datasetId"]
    assert all(j["status"] == "completed" and j["bestScore"] > j["initialScore"] for j in jobs)


async def test_demo_needs_a_key_for_a_running_server(cli: Cli) -> None:
    result = await cli.run("demo", "--exit", key=False)
    assert_clean_failure(result, f"a Whetstone server answers at {cli.url}", "--api-key")


def test_demo_keeps_serving_until_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --exit the embedded server stays up (the CLI finds it through server.json)
    until SIGINT, then stops cleanly and removes server.json."""
    data_dir = tmp_path / "demo"
    command = [
        sys.executable, "-c", "from whetstone.cli.main import main; main()",
        "--url", f"http://127.0.0.1:{free_port()}", "demo", "--pace-ms", "0",
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    monkeypatch.setenv("WHETSTONE_DATA_DIR", str(data_dir))  # for the demo and this test
    out = tmp_path / "stdout"
    with out.open("wb") as sink:  # a file, not a pipe nobody reads while the demo runs
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)
    try:
        seen = read_until(proc, b"Press Ctrl-C to stop it.", START_TIMEOUT)
        record = json.loads((data_dir / SERVER_FILE).read_text())
        assert record["pid"] == proc.pid
        assert record["url"].encode() in seen
        listed = invoke("optimize", "list", "--json")  # found through server.json and cli.key
        assert listed.exit_code == 0, listed.stderr
        [job] = json.loads(listed.stdout)["items"]
        assert job["status"] == "completed"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=STOP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode(errors="replace")
    stdout = out.read_bytes()
    assert b"Traceback" not in stdout + stderr
    assert job["id"].encode() in stdout
    assert not (data_dir / SERVER_FILE).exists()
