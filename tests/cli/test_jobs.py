"""``whetstone optimize watch|status|list|pause|resume|cancel|results`` against a real server
running real simulated jobs; the watch view on a (pretend) terminal and across a dropped
connection."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.cli.conftest import Cli, assert_clean_failure, dead_url, invoke, sample_ids
from tests.sdk.proxy import tcp_proxy
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.sdk import AsyncWhetstone, Event

WAIT = 30.0  # the bound on waiting for a job's event
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


async def start_job(api: Api, **config: object) -> str:
    prompt, dataset, _ = await sample_ids(api)
    body = {
        "promptId": prompt,
        "datasetId": dataset,
        "config": {"maxIterations": 3, "dryRun": True, "seed": 1, **config},
    }
    return str((await api.call("POST", "/api/optimizations", 201, json=body))["data"]["id"])


async def until(cli: Cli, job_id: str, event_type: str) -> Event:
    """The job's first ``event_type`` event, read through the SDK (bounded)."""
    async with AsyncWhetstone(cli.url, cli.key) as client, asyncio.timeout(WAIT):
        async for event in client.optimization.stream(job_id, after_event_id=0):
            if event.type == event_type:
                return event
    pytest.fail(f"{job_id} ended without {event_type}")


async def test_status_list_and_results_with_diff(cli: Cli, api: Api) -> None:
    job_id = await start_job(api)
    await until(cli, job_id, "job_complete")

    status = await cli.ok("optimize", "status", job_id)
    assert f"Optimization {job_id}" in status.stdout
    assert "SIMULATED" in status.stdout
    assert "completed" in status.stdout
    assert json.loads((await cli.ok("optimize", "status", job_id, "--json")).stdout)["id"] == job_id

    listed = await cli.ok("optimize", "list", "--status", "completed")
    assert job_id in listed.stdout
    assert "completed (sim)" in listed.stdout
    page = json.loads((await cli.ok("optimize", "list", "--json")).stdout)
    assert [j["id"] for j in page["items"]] == [job_id]

    results = await cli.ok("optimize", "results", job_id, "--diff")
    assert "0.200 → 1.000" in results.stdout
    assert "--- original (prm_" in results.stdout
    assert "+++ best (prm_" in results.stdout
    assert re.search(r"^\+\S", results.stdout, flags=re.M)  # an added line
    as_json = json.loads((await cli.ok("optimize", "results", job_id, "--diff", "--json")).stdout)
    assert as_json["finalScore"] > as_json["initialScore"]
    assert as_json["diff"].startswith("--- original")
    assert as_json["simulated"] is True


async def test_watch_a_finished_job_replays_it(cli: Cli, api: Api) -> None:
    job_id = await start_job(api)
    await until(cli, job_id, "job_complete")
    result = await cli.ok("optimize", "watch", job_id)
    assert result.stdout.startswith("[1] iteration 0 job_started")
    assert f"Job {job_id} completed: 0.200 → 1.000" in result.stdout
    assert "(SIMULATED)" in result.stdout


async def test_pause_resume_cancel(cli: Cli, api: Api) -> None:
    job_id = await start_job(api, maxIterations=50, tuningParams={"simLatencyMs": 5})
    await until(cli, job_id, "iteration_start")
    paused = await cli.ok("optimize", "pause", job_id, "--reason", "lunch")
    assert job_id in paused.stdout
    assert (await until(cli, job_id, "job_paused")).data.get("reason") == "lunch"
    assert "paused" in (await cli.ok("optimize", "status", job_id)).stdout

    early = await cli.run("optimize", "results", job_id)
    assert_clean_failure(early, job_id, f"whetstone optimize watch {job_id}")

    resumed = json.loads((await cli.ok("optimize", "resume", job_id, "--json")).stdout)
    assert resumed["status"] == "running"
    await until(cli, job_id, "job_resumed")
    await cli.ok("optimize", "cancel", job_id, "--reason", "enough")
    await until(cli, job_id, "job_cancelled")

    watched = await cli.run("optimize", "watch", job_id)
    assert watched.exit_code == 1  # it did not complete
    assert "job_cancelled: enough" in watched.stdout
    results = json.loads((await cli.ok("optimize", "results", job_id, "--json")).stdout)
    assert results["status"] == "cancelled"
    assert results["stopReason"] == "cancelled"

    again = await cli.run("optimize", "pause", job_id)
    assert_clean_failure(again, "cannot pause")


async def test_unknown_job(cli: Cli) -> None:
    for command in ("watch", "status", "results", "pause", "resume", "cancel"):
        result = await cli.run("optimize", command, "job_nope")
        assert_clean_failure(result, "optimization 'job_nope' not found")
        assert result.stdout == ""


def test_server_down() -> None:
    url = dead_url()
    for command in (["list"], ["status", "job_x"], ["watch", "job_x"], ["results", "job_x"]):
        result = invoke("--url", url, "optimize", *command)
        assert_clean_failure(
            result, f"cannot reach the Whetstone server at {url}", "whetstone serve"
        )


async def test_live_view_on_a_terminal(cli: Cli, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = await start_job(api)
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich treats the captured stdout as a terminal
    monkeypatch.setenv("COLUMNS", "100")
    result = await cli.ok("optimize", "watch", job_id)
    screen = ANSI.sub("", result.stdout)
    for label in (f"Optimization {job_id}", "SIMULATED", "Progress", "Best", "Scores", "Cost"):
        assert label in screen
    assert "iteration 3/3" in screen
    assert "finished · completed" in screen
    assert "█" in screen  # the sparkline reached the top


async def test_watch_reconnects_and_shows_it(cli: Cli, api: Api, live: LiveServer) -> None:
    """A dropped connection mid-job: the watch says it is reconnecting, then goes on with
    every event exactly once."""
    job_id = await start_job(api, maxIterations=4, tuningParams={"simLatencyMs": 2})
    await until(cli, job_id, "iteration_start")
    await cli.ok("optimize", "pause", job_id)
    await until(cli, job_id, "job_paused")
    async with tcp_proxy(live.port) as proxy:
        watching = asyncio.create_task(Cli(proxy.url, cli.key).run("optimize", "watch", job_id))
        await proxy.wait_forwarded(2)  # the job's REST read, then the WebSocket
        proxy.cut()
        await proxy.wait_forwarded(3, within=WAIT)  # it came back
        # Not with the CLI: a second CliRunner at the same time would swap sys.stdout.
        await api.call("POST", f"/api/optimizations/{job_id}/resume")
        result = await asyncio.wait_for(watching, WAIT)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "reconnecting" in result.stderr
    ids = [int(line[1 : line.index("]")]) for line in result.stdout.splitlines() if line[:1] == "["]
    assert ids == list(range(1, len(ids) + 1))
    assert f"Job {job_id} completed" in result.stdout
