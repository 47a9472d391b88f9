"""A short soak still runs end to end against a real server process: no error, gap or
duplicate, and the JSON has every field (its timings are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
FIELDS = {
    "config",
    "errors",
    "errorSamples",
    "gaps",
    "duplicates",
    "subscribersConnected",
    "rampSeconds",
    "jobsStarted",
    "jobsCompleted",
    "jobsFollowedBySubscribers",
    "jobsSeenToTheEndBySubscribers",
    "eventsWritten",
    "eventsDelivered",
    "liveDeliveries",
    "replayDeliveries",
    "deliveriesPerSecond",
    "latencyMs",
    "rssKiB",
    "rssSamples",
    "warmupSeconds",
    "rssSlopeKiBPerMinute",
    "rssSlopeWholeRunKiBPerMinute",
    "seconds",
    "cpu",
    "machine",
    "ok",
}


def test_a_short_soak_has_no_error_gap_or_duplicate(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_soak", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "soak.json"
    argv = ["--seconds", "8", "--jobs", "3", "--subscribers", "30", "--iterations", "2"]
    argv += ["--sim-latency-ms", "40", "--sample-every", "1", "--out", str(out)]
    returned = module.main(argv)
    report = json.loads(out.read_text())
    assert report == json.loads(json.dumps(returned))
    assert set(report) >= FIELDS, FIELDS - set(report)
    assert (report["errors"], report["gaps"], report["duplicates"]) == (0, 0, 0), report
    assert report["ok"] is True
    assert report["subscribersConnected"] == 30
    assert report["config"] == {
        "seconds": 8.0,
        "jobs": 3,
        "subscribers": 30,
        "iterations": 2,
        "simLatencyMs": 40,
        "sampleEverySeconds": 1.0,
    }
    assert set(report["latencyMs"]) == {"p50", "p99", "max", "samples", "byEventType"}
    assert set(report["rssKiB"]) == {"start", "end", "max"}
    assert report["rssKiB"]["max"] >= report["rssKiB"]["start"] > 0
    assert report["jobsStarted"] >= 3
    # every delivered event was counted once, live or replayed
    assert report["eventsDelivered"] == report["liveDeliveries"] + report["replayDeliveries"]
    assert report["eventsDelivered"] > 0
