"""The streaming benchmark still runs end to end, and every client in every scenario saw
every id exactly once (its timings are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "streaming.py"
SCENARIOS = ("fanout", "latency", "memory", "replay")


def test_the_streaming_benchmark_runs_without_gaps_or_duplicates(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_streaming", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "streaming.json"
    module.main(["--quick", "--out", str(out)])
    report = json.loads(out.read_text())
    assert sorted(report["scenarios"]) == sorted(SCENARIOS)
    for name in SCENARIOS:
        rows = report["scenarios"][name]
        assert rows, name
        for row in rows:
            for server in ("whetstone", "raw"):
                side = row[server]
                assert (side["gaps"], side["duplicates"]) == (0, 0), (name, server)
                assert side["deliveries"] == side["expected"], (name, server)
    assert report["integrity"] == {"gaps": 0, "duplicates": 0}
