"""Streaming benchmark: WebSocket fan-out, latency, memory and replay, next to raw websockets.

    python bench/streaming.py            # the full run, about 2 minutes on 2 cores
    python bench/streaming.py --quick    # a smoke run, under a minute

Every scenario runs against two servers, each in its own process on 127.0.0.1 and on
uvloop: Whetstone (the app under uvicorn on a temporary SQLite store; each event is written
with ``store.jobs.write`` and then ``bus.publish``ed, one event per write, as the runner
does) and a raw ``websockets`` server that keeps its connections in a set and
``broadcast``s frames of the same shape and size. The load generator is this process: all
clients in one asyncio loop, on a minimal RFC 6455 client so that its own cost stays small
and the same for both servers. No client offers compression. Every client checks that the
ids it receives are contiguous and each seen once. Prints a table per scenario and writes
JSON (default bench/results/streaming.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the wsbench package beside it

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from wsbench.client import close_all, open_subscribers, tally, wait_done
from wsbench.common import (
    FANOUT_BATCH,
    FANOUT_RATIO,
    FULL,
    KINDS,
    LATENCY_P99_MS,
    MEMORY_RATIO,
    QUICK,
    REPLAY_PER_SECOND,
    SCRIPT,
    SETTLE_SECONDS,
    Plan,
    _loop_factory,
    raise_fd_limit,
)
from wsbench.servers import ServerProcess, serve_main

# -- scenarios --------------------------------------------------------------------------


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


async def fanout_once(server: ServerProcess, n: int, m: int, batch: int) -> dict[str, Any]:
    subs = await open_subscribers(server, server.live_job, n, count=m)
    try:
        status = await server.publish(subs, m, 0, batch)
    finally:
        await close_all(subs)
    firsts = [s.first_published for s in subs if s.first_published is not None]
    seconds = max(s.last_received for s in subs) - min(firsts) if firsts else float("nan")
    result = tally(subs, n * m)
    return {
        **result,
        "seconds": seconds,
        "deliveriesPerSecond": result["deliveries"] / seconds if seconds > 0 else 0.0,
        "publishSeconds": status["seconds"],
        "publishedPerSecond": status["published"] / status["seconds"] if status["seconds"] else 0,
        "frameBytes": max(s.frame_bytes for s in subs),
    }


def _sum_runs(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    total = {k: sum(r[k] for r in runs) for k in ("deliveries", "expected", "gaps", "duplicates")}
    values = [r[key] for r in runs]
    return {key: statistics.median(values), **total, "runs": runs}


async def fanout(kind: str, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    async with ServerProcess(kind) as server:
        await server.warm_up()
        for n, m, batch in plan.fanout:
            runs = [await fanout_once(server, n, m, batch) for _ in range(plan.repeats)]
            sums = _sum_runs(runs, "deliveriesPerSecond")
            rows.append({"subscribers": n, "events": m, "batch": batch, **sums})
            _progress(f"fan-out {kind:9} {n:5} subscribers x {m} events done")
    return rows


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(kind: str, plan: Plan) -> dict[str, Any]:
    n, rate, seconds = plan.latency
    count = int(rate * seconds)
    async with ServerProcess(kind) as server:
        await server.warm_up()
        subs = await open_subscribers(server, server.live_job, n, count=count, latency=True)
        try:
            await server.publish(subs, count, rate)
        finally:
            await close_all(subs)
    ordered = sorted(ms * 1000 for s in subs for ms in s.latencies or ())
    # each event's first delivery: the write and publish, before the fan-out adds its share
    per_event = zip(*(s.latencies or () for s in subs), strict=False)
    firsts = sorted(min(one) * 1000 for one in per_event)
    _progress(f"latency {kind:9} done")
    return {
        "subscribers": n,
        "eventsPerSecond": rate,
        "seconds": seconds,
        "samples": len(ordered),
        "p50Ms": _percentile(ordered, 0.50),
        "p99Ms": _percentile(ordered, 0.99),
        "maxMs": ordered[-1] if ordered else float("nan"),
        "firstDeliveryP50Ms": _percentile(firsts, 0.50),
        **tally(subs, n * count),
    }


async def memory(kind: str, plan: Plan) -> dict[str, Any]:
    async with ServerProcess(kind) as server:
        await server.warm_up()
        await asyncio.sleep(SETTLE_SECONDS)
        before = server.rss_kib()
        subs = await open_subscribers(server, server.live_job, plan.idle)
        try:
            await asyncio.sleep(SETTLE_SECONDS)
            after = server.rss_kib()
        finally:
            await close_all(subs)
    _progress(f"memory  {kind:9} done")
    return {
        "connections": plan.idle,
        "rssBeforeKiB": before,
        "rssAfterKiB": after,
        "kibPerConnection": (after - before) / plan.idle,
        **tally(subs, 0),
    }


async def replay_once(server: ServerProcess, size: int) -> dict[str, Any]:
    subs = await open_subscribers(server, server.replay_jobs[size], 1, after=0)
    try:
        await wait_done(subs, 30 + size / 5000)
    finally:
        await close_all(subs)
    (sub,) = subs
    seconds = sub.last_received - sub.sent_at
    return {
        **tally(subs, size),
        "seconds": seconds,
        "eventsPerSecond": sub.received / seconds if seconds > 0 else 0.0,
    }


async def replay(kind: str, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    async with ServerProcess(kind, preload=plan.replay) as server:
        for size in plan.replay:
            runs = [await replay_once(server, size) for _ in range(plan.repeats)]
            rows.append({"events": size, **_sum_runs(runs, "eventsPerSecond")})
            _progress(f"replay  {kind:9} {size} events done")
    return rows


async def run_plan(plan: Plan) -> dict[str, Any]:
    fan = {kind: await fanout(kind, plan) for kind in KINDS}
    lat = {kind: await latency(kind, plan) for kind in KINDS}
    mem = {kind: await memory(kind, plan) for kind in KINDS}
    rep = {kind: await replay(kind, plan) for kind in KINDS}
    fanout_rows = []
    for w, r in zip(fan["whetstone"], fan["raw"], strict=True):
        ratio = w["deliveriesPerSecond"] / r["deliveriesPerSecond"]
        row = {
            "subscribers": w["subscribers"],
            "events": w["events"],
            "batch": w["batch"],
            "whetstone": w,
            "raw": r,
        }
        # the target is on fan-out at a runner step's batch; one event per transaction
        # measures the store's own write rate, which raw (no store) has no counterpart of
        target = FANOUT_RATIO if w["batch"] == FANOUT_BATCH else None
        fanout_rows.append({**row, "ratio": ratio, "target": target})
    replay_rows = []
    for w, r in zip(rep["whetstone"], rep["raw"], strict=True):
        row = {"events": w["events"], "whetstone": w, "raw": r}
        replay_rows.append({**row, "target": REPLAY_PER_SECOND})
    w_mem, r_mem = mem["whetstone"]["kibPerConnection"], mem["raw"]["kibPerConnection"]
    scenarios = {
        "fanout": fanout_rows,
        "latency": [{**lat, "target": {"p99Ms": LATENCY_P99_MS}}],
        "memory": [{**mem, "ratio": w_mem / r_mem if r_mem > 0 else None, "target": MEMORY_RATIO}],
        "replay": replay_rows,
    }
    sides = [row[k] for rows in scenarios.values() for row in rows for k in KINDS]
    integrity = {k: sum(side[k] for side in sides) for k in ("gaps", "duplicates")}
    return {"scenarios": scenarios, "integrity": integrity}


# -- report -----------------------------------------------------------------------------


def _meets(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _integrity(row: dict[str, Any]) -> str:
    w, r = row["whetstone"], row["raw"]
    return f"{w['gaps']}/{w['duplicates']} {r['gaps']}/{r['duplicates']}"


def print_report(report: dict[str, Any], plan: Plan) -> None:
    s = report["scenarios"]
    frame = s["fanout"][0]["whetstone"]["runs"][0]["frameBytes"]
    print(
        f"\nFan-out: deliveries/s to N clients of one job, events published as fast as "
        f"possible, {FANOUT_BATCH} per store write as a runner step writes them "
        f"({frame}-byte frames; median of {plan.repeats}); the last row writes one event "
        "per transaction: the store's own rate"
    )
    print(
        f"{'subscribers':>11} {'events':>6} {'per write':>9} {'whetstone/s':>12} {'raw/s':>10} "
        f"{'ratio':>6} {'target >= 50%':>13} {'stored events/s':>15}  gaps/dups w r"
    )
    for row in s["fanout"]:
        w, r = row["whetstone"], row["raw"]
        writes = statistics.median(run["publishedPerSecond"] for run in w["runs"])
        target = row["target"]
        verdict = "reported only" if target is None else _meets(row["ratio"] >= target)
        print(
            f"{row['subscribers']:11,} {row['events']:6,} {row['batch']:9,} "
            f"{w['deliveriesPerSecond']:12,.0f} "
            f"{r['deliveriesPerSecond']:10,.0f} {row['ratio']:6.0%} "
            f"{verdict:>13} {writes:15,.0f}  {_integrity(row)}"
        )
    (lat,) = s["latency"]
    w = lat["whetstone"]
    print(
        f"\nLatency publish -> receive: {w['subscribers']} subscribers x "
        f"{w['eventsPerSecond']:.0f} events/s for {w['seconds']:.0f} s"
    )
    print(
        f"{'server':9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'samples':>8} "
        f"{'first delivery p50 ms':>21}  gaps/dups"
    )
    for kind in KINDS:
        x = lat[kind]
        print(
            f"{kind:9} {x['p50Ms']:7.2f} {x['p99Ms']:7.2f} {x['maxMs']:7.2f} "
            f"{x['samples']:8,} {x['firstDeliveryP50Ms']:21.2f}  {x['gaps']}/{x['duplicates']}"
        )
    ratio = w["p99Ms"] / lat["raw"]["p99Ms"]
    print(
        f"whetstone p99 {w['p99Ms']:.2f} ms = {ratio:.1f}x raw "
        f"({_meets(w['p99Ms'] <= LATENCY_P99_MS)} the p99 <= 10 ms target)"
    )
    (mem,) = s["memory"]
    print(f"\nMemory per idle subscribed connection ({mem['whetstone']['connections']:,} open)")
    print(f"{'server':9} {'RSS before MiB':>14} {'RSS after MiB':>13} {'KiB/connection':>14}")
    for kind in KINDS:
        x = mem[kind]
        print(
            f"{kind:9} {x['rssBeforeKiB'] / 1024:14.1f} {x['rssAfterKiB'] / 1024:13.1f} "
            f"{x['kibPerConnection']:14.1f}"
        )
    ok = mem["ratio"] is not None and mem["ratio"] <= MEMORY_RATIO
    shown = f"{mem['ratio']:.2f}x" if mem["ratio"] is not None else "n/a"
    print(f"whetstone / raw = {shown} ({_meets(ok)} the <= 2x target)")
    print(f"\nReplay: one client subscribes with afterEventId=0 (median of {plan.repeats})")
    print(
        f"{'events':>7} {'whetstone ev/s':>14} {'raw ev/s':>10} {'ratio':>6} "
        f"{'target >= 50k/s':>15}  gaps/dups w r"
    )
    for row in s["replay"]:
        w, r = row["whetstone"]["eventsPerSecond"], row["raw"]["eventsPerSecond"]
        print(
            f"{row['events']:7,} {w:14,.0f} {r:10,.0f} {w / r:6.0%} "
            f"{_meets(w >= REPLAY_PER_SECOND):>15}  {_integrity(row)}"
        )
    i = report["integrity"]
    ok = i["gaps"] == 0 and i["duplicates"] == 0
    print(
        f"\nIds checked by every client in every scenario: {i['gaps']} gaps, "
        f"{i['duplicates']} duplicates ({_meets(ok)} the zero target)"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and M, under a minute")
    parser.add_argument("--out", type=Path, default=SCRIPT.parent / "results" / "streaming.json")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--preload", default="", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=900, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        preload = [int(x) for x in args.preload.split(",") if x]
        serve_main(args.serve, preload, args.lifetime)
        return {}

    plan = QUICK if args.quick else FULL
    raise_fd_limit()
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        report = runner.run(run_plan(plan))
    report.update(
        mode="quick" if args.quick else "full",
        seconds=time.perf_counter() - started,
        machine={"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    )
    print_report(report, plan)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out} ({report['seconds']:.0f} s)")
    return report


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
