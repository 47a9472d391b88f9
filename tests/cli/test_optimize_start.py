"""``whetstone optimize start``: every config flag reaches the job, ``--config`` files merge
under the flags, the server's validation errors name the field, and ``--dry-run --watch``
follows a real simulated run to its end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, assert_clean_failure, dead_url, invoke, sample_ids
from tests.support.api import Api

EVERY_FLAG = [
    "--max-iterations", "2",
    "--target-score", "0.95",
    "--patience", "3",
    "--min-improvement", "0.05",
    "--mutation-strength", "0.3",
    "--mutation-types", "reflective,rephrase",
    "--mutation-types", "compress",
    "--candidates-per-iteration", "2",
    "--metric", "exact_match:2",
    "--metric", "token_f1",
    "--no-preserve-variables",
    "--preserve-structure",
    "--timeout", "10m",
    "--model", "sim/default",
    "--task-model", "sim/task",
    "--mutation-model", "sim/mutate",
    "--judge-model", "sim/judge",
    "--dry-run",
    "--max-cost-usd", "1.5",
    "--max-llm-calls", "500",
    "--max-tokens", "100000",
    "--concurrency", "4",
    "--seed", "42",
    "--tuning", '{"valSize": 4}',
]  # fmt: skip


async def test_every_flag_reaches_the_config(cli: Cli, api: Api) -> None:
    prompt, dataset, _ = await sample_ids(api)
    result = await cli.ok("optimize", "start", "-p", prompt, "-d", dataset, *EVERY_FLAG, "--json")
    job = json.loads(result.stdout)
    config = job["config"]
    assert job["promptId"] == prompt
    assert job["datasetId"] == dataset
    assert config["maxIterations"] == 2
    assert config["targetScore"] == 0.95
    assert config["patience"] == 3
    assert config["minImprovement"] == 0.05
    assert config["mutationStrength"] == 0.3
    assert config["mutationTypes"] == ["reflective", "rephrase", "compress"]
    assert config["candidatesPerIteration"] == 2
    assert [(m["name"], m["weight"]) for m in config["evaluationMetrics"]] == [
        ("exact_match", 2.0),
        ("token_f1", 1.0),
    ]
    assert config["preserveVariables"] is False
    assert config["preserveStructure"] is True
    assert config["timeout"] == 600_000
    assert config["dryRun"] is True
    assert config["budget"] == {"maxCostUsd": 1.5, "maxLlmCalls": 500, "maxTokens": 100_000}
    assert config["concurrency"] == 4
    assert config["seed"] == 42
    assert config["tuningParams"] == {"valSize": 4}


async def test_config_file_with_flags_on_top(cli: Cli, api: Api, tmp_path: Path) -> None:
    prompt, dataset, _ = await sample_ids(api)
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"max_iterations": 5, "dryRun": True, "budget": {"maxLlmCalls": 9}}))
    result = await cli.ok(
        "optimize", "start", "-p", prompt, "-d", dataset, "--config", str(path),
        "--max-iterations", "1", "--max-tokens", "999", "--json",
    )  # fmt: skip
    config = json.loads(result.stdout)["config"]
    assert config["maxIterations"] == 1
    assert config["dryRun"] is True
    assert config["budget"] == {"maxCostUsd": None, "maxLlmCalls": 9, "maxTokens": 999}


async def test_bad_values(cli: Cli, api: Api) -> None:
    prompt, dataset, _ = await sample_ids(api)
    start = ("optimize", "start", "-p", prompt, "-d", dataset)
    out_of_range = await cli.run(*start, "--max-iterations", "0")
    assert_clean_failure(out_of_range, "config.maxIterations")
    unknown = await cli.run(*start, "--mutation-types", "telepathy")
    assert_clean_failure(unknown, "telepathy", "reflective")
    usage = await cli.run(*start, "--metric", "exact_match:lots")
    assert usage.exit_code == 2
    assert "NAME:WEIGHT" in usage.stderr
    missing = await cli.run("optimize", "start", "-p", "prm_nope", "-d", dataset)
    assert_clean_failure(missing, "prm_nope")
    jobs = await api.call("GET", "/api/optimizations")
    assert jobs["data"] == []


async def test_dry_run_watch_runs_to_completion(cli: Cli, api: Api) -> None:
    prompt, dataset, _ = await sample_ids(api)
    result = await cli.ok(
        "optimize", "start", "-p", prompt, "-d", dataset, "--dry-run", "--max-iterations", "3",
        "--seed", "1", "--watch",
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert any("SIMULATED" in line for line in lines[:3])
    events = [line for line in lines if line.startswith("[")]
    assert events[0].startswith("[1] iteration 0 job_started")
    assert [int(line[1 : line.index("]")]) for line in events] == list(range(1, len(events) + 1))
    assert "job_complete" in events[-1]
    assert "completed: 0.200 → " in result.stdout
    assert "whetstone optimize results" in result.stdout
    job_id = lines[0].split()[2]
    job = (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]
    assert job["status"] == "completed"
    assert job["bestScore"] > job["initialScore"]


async def test_watch_json_prints_events_only(cli: Cli, api: Api) -> None:
    prompt, dataset, _ = await sample_ids(api)
    result = await cli.ok(
        "optimize", "start", "-p", prompt, "-d", dataset, "--dry-run", "--max-iterations", "2",
        "--watch", "--json",
    )  # fmt: skip
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["eventType"] == "job_started"
    assert events[-1]["eventType"] == "job_complete"
    assert events[-1]["data"]["results"]["status"] == "completed"
    assert set(events[0]) == {"id", "jobId", "eventType", "iteration", "stage", "timestamp", "data"}


def test_server_down() -> None:
    url = dead_url()
    result = invoke("--url", url, "optimize", "start", "-p", "prm_x", "-d", "ds_x", "--dry-run")
    assert_clean_failure(result, f"cannot reach the Whetstone server at {url}", "whetstone serve")
