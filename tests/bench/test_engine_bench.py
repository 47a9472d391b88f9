"""The engine benchmark still runs and writes its JSON (its figures are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "engine.py"


def test_the_engine_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "engine.json"
    module.main(
        ["--seeds", "1", "--tasks", "capitals", "--configs", "reflective", "--out", str(out)]
    )
    report = json.loads(out.read_text())
    (row,) = report["quality"]
    assert (row["task"], row["config"]) == ("capitals", "reflective")
    assert row["runs"][0]["final"] >= row["runs"][0]["initial"]
    assert report["overhead"]["calls"] > 0
    assert report["concurrency"]["peakInFlight"] <= report["concurrency"]["concurrency"]
