"""Engine benchmark: optimization quality on the simulated tasks, and engine overhead.

    python bench/engine.py                 # 3 tasks x 8 configurations x 5 seeds, ~2 min
    python bench/engine.py --seeds 1 --tasks capitals --configs reflective   # a smoke run

Prints a table and writes JSON (default bench/results/engine.json). Everything
runs on the deterministic simulator, so the scores are simulated scores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from whetstone.clock import SystemClock
from whetstone.domain.config import JobConfig, MetricSpec
from whetstone.domain.dataset import Dataset, Item
from whetstone.domain.prompt import Prompt, PromptBody, PromptSource
from whetstone.engine.base import JobContext
from whetstone.engine.factory import OptimizerFactory
from whetstone.engine.items import ListItemSource
from whetstone.providers.base import Completion, CompletionRequest
from whetstone.providers.sim.provider import SimProvider
from whetstone.samples import SAMPLES, load_sample
from whetstone.server.app import build_services, create_app
from whetstone.settings import Settings

CONFIGS: dict[str, dict[str, Any]] = {
    "reflective": {"mutationTypes": ["reflective"]},
    "history": {"mutationTypes": ["history"]},
    "fewshot": {"mutationTypes": ["fewshot"]},
    "rephrase": {"mutationTypes": ["rephrase"]},
    "crossover": {"mutationTypes": ["crossover"]},
    "compress": {"mutationTypes": ["compress"]},
    "default mix": {},
    "random-rephrase baseline": {
        "mutationTypes": ["rephrase"],
        "mutationStrength": 1.0,
        "tuningParams": {"gate": False, "parentSelection": "random"},
    },
}


# -- quality ---------------------------------------------------------------------------


def calls_to_reach(events: list[dict[str, Any]], final: float) -> int:
    """LLM calls spent until the best score first reached 90 % of the final one."""
    calls, best = 0, None
    for e in events:
        data = e["data"]
        usage = (
            data.get("usage")
            if e["eventType"] in ("mutation_generated", "evaluation_complete")
            else None
        )
        calls += usage["llmCalls"] if usage else 0
        if (e["eventType"] == "evaluation_complete" and data.get("phase") == "baseline") or e[
            "eventType"
        ] == "new_best":
            best = data["score"]
        if best is not None and best >= 0.9 * final:
            return calls
    return calls


async def quality(tasks: list[str], configs: list[str], seeds: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key="bench-secret-0123456789")
        svc = build_services(settings, run_jobs=True)
        await svc.store.start()
        assert svc.runner is not None
        ws = await svc.store.keys.ensure_workspace("bench")
        _, key = await svc.store.keys.create_key(ws.id)
        headers = {"Authorization": f"Bearer {key}"}
        transport = httpx.ASGITransport(app=create_app(services=svc))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            for task in tasks:
                sample = load_sample(task)
                prompt = await _post(c, "/api/prompts", sample["prompt"], headers)
                ds = await _post(c, "/api/datasets", sample["dataset"], headers)
                for name in configs:
                    runs = []
                    for seed in range(1, seeds + 1):
                        config = {**sample["config"], **CONFIGS[name], "seed": seed}
                        body = {"promptId": prompt["id"], "datasetId": ds["id"], "config": config}
                        job = await _post(c, "/api/optimizations", body, headers)
                        await svc.runner.run_until_idle()
                        path = f"/api/optimizations/{job['id']}"
                        res = await _get(c, f"{path}/results", headers)
                        events = await _get(c, f"{path}/events?limit=5000", headers)
                        runs.append(
                            {
                                "seed": seed,
                                "initial": res["initialScore"],
                                "final": res["finalScore"],
                                "calls": res["usage"]["llmCalls"],
                                "callsTo90": calls_to_reach(events, res["finalScore"]),
                                "stopReason": res["stopReason"],
                            }
                        )
                    rows.append({"task": task, "config": name, "runs": runs})
                    print(f"  {task:18} {name:26} done", file=sys.stderr)
        await svc.stop()
    return rows


async def _post(c: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = await c.post(path, json=body, headers=headers)
    response.raise_for_status()
    return response.json()["data"]


async def _get(c: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await c.get(path, headers=headers)
    response.raise_for_status()
    return response.json()["data"]


def _spread(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"


# -- overhead and concurrency -----------------------------------------------------------


class _TimedSim(SimProvider):
    """The simulator, timing itself: what is not provider time is engine time."""

    def __init__(self, latency: float) -> None:
        super().__init__(latency_seconds=latency)
        self.seconds = 0.0

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            return await super().complete(request)
        finally:
            self.seconds += time.perf_counter() - started


def _context(items_n: int, config: dict[str, Any]) -> JobContext:
    sample = load_sample("capitals")
    raw = sample["dataset"]["items"]
    items = [
        Item(
            f"itm{i}",
            "ds",
            i,
            raw[i % len(raw)]["input"],
            raw[i % len(raw)]["expectedOutput"],
            raw[i % len(raw)]["metadata"],
        )
        for i in range(items_n)
    ]
    now = SystemClock().now()
    body = PromptBody(template=sample["prompt"]["template"])
    prompt = Prompt(
        "p", "ws", "p", "capitals", 1, True, None, (), body, PromptSource.USER, None, now
    )
    cfg = JobConfig.model_validate({"dryRun": True, **config}).with_defaults(
        default_model="sim/default", seed=1
    )
    cfg = cfg.model_copy(update={"evaluation_metrics": [MetricSpec(name="exact_match")]})
    dataset = Dataset("ds", "ws", "capitals", None, items_n, now, ("question",))
    job: Any = None
    return JobContext(
        job, cfg, prompt, dataset, ListItemSource(items), SystemClock(), lambda: 0, True
    )


async def overhead() -> dict[str, Any]:
    """Engine time per LLM call with a zero-latency provider, engine alone (no store)."""
    sim = _TimedSim(0.0)
    ctx = _context(96, {"maxIterations": 10, "candidatesPerIteration": 4})
    engine = OptimizerFactory(providers={"sim": sim})(ctx)
    state = engine.initial_state()
    started = time.perf_counter()
    while True:
        result = await engine.step(state)
        state = result.state
        if result.stop is not None:
            break
    wall = time.perf_counter() - started
    calls = engine.llm.usage.llm_calls
    return {
        "calls": calls,
        "wallSeconds": wall,
        "providerSeconds": sim.seconds,
        "engineMicrosPerCall": (wall - sim.seconds) / calls * 1e6,
        "target": 200.0,
    }


async def concurrency(latency: float = 0.05, limit: int = 8, items: int = 96) -> dict[str, Any]:
    """Calls in flight on average while a 96-item evaluation runs on a 50 ms provider."""
    sim = _TimedSim(latency)
    ctx = _context(items, {"concurrency": limit})
    engine = OptimizerFactory(providers={"sim": sim})(ctx)
    state = engine.initial_state()
    state = (await engine.step(state)).state  # baseline_start: evaluation_start only
    started = time.perf_counter()
    await engine.step(state)  # baseline_eval: the whole dataset, concurrently
    wall = time.perf_counter() - started
    achieved = engine.llm.busy_seconds / wall
    return {
        "latencyMs": latency * 1000,
        "concurrency": limit,
        "items": items,
        "wallSeconds": wall,
        "achieved": achieved,
        "ratio": achieved / limit,
        "peakInFlight": engine.llm.peak_in_flight,
        "target": 0.9,
    }


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", default=list(SAMPLES), choices=SAMPLES)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "engine.json"
    )
    args = parser.parse_args(argv)

    rows = asyncio.run(quality(args.tasks, args.configs, args.seeds))
    over = asyncio.run(overhead())
    conc = asyncio.run(concurrency())

    print(f"\nQuality on the simulated tasks ({args.seeds} seeds; median [min-max])")
    header = f"{'task':18} {'configuration':26} {'initial':>7} {'final score':>20}"
    print(f"{header} {'LLM calls to 90%':>22}")
    for row in rows:
        runs = row["runs"]
        print(
            f"{row['task']:18} {row['config']:26} {runs[0]['initial']:7.3f} "
            f"{_spread([r['final'] for r in runs], '.3f'):>20} "
            f"{_spread([r['callsTo90'] for r in runs], '.0f'):>22}"
        )
    print("\nOverhead")
    ok = "meets" if over["engineMicrosPerCall"] < over["target"] else "MISSES"
    print(
        f"engine time per LLM call, zero-latency provider: {over['engineMicrosPerCall']:.0f} µs "
        f"over {over['calls']} calls ({ok} the < 200 µs target)"
    )
    ok = "meets" if conc["ratio"] >= conc["target"] else "MISSES"
    print(
        f"achieved concurrency, 50 ms provider, concurrency {conc['concurrency']}: "
        f"{conc['achieved']:.2f} in flight on average = {conc['ratio']:.0%} "
        f"({ok} the >= 90 % target)"
    )
    report = {"quality": rows, "overhead": over, "concurrency": conc, "seeds": args.seeds}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out}")
    return report


if __name__ == "__main__":
    main()
