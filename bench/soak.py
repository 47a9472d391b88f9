"""Soak benchmark: many jobs and WebSocket subscribers on one server for a while.

    python bench/soak.py                                           # 60 s, 20 jobs, 500 subscribers
    python bench/soak.py --seconds 10 --jobs 5 --subscribers 100   # a short run

A real ``whetstone serve`` runs in a child process on a temporary data dir. This process
keeps ``--jobs`` dry-run jobs running (each paced by ``simLatencyMs``; when one ends, the
next one of its slot starts at once) and opens ``--subscribers`` raw ``websockets``
clients spread evenly over the slots (half authenticated by header, half by a first
``auth`` message). Each client subscribes to its slot's job with ``afterEventId`` 0, checks
that ids arrive 1, 2, 3… with no gap or duplicate, and at the terminal event subscribes to
the slot's next job on the same socket. Latency is the receive time minus the event's
``timestamp`` (one machine, one clock), for live events only. The server's RSS is sampled
from /proc every ``--sample-every`` seconds; its slope after the warm-up shows a leak.
Prints a table, writes JSON (default bench/results/soak.json), and exits non-zero if there
was any error, gap or duplicate.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # soakbench and wsbench beside it

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from typing import Any

import httpx
from soakbench.follower import UNTIMED, Follower, Tally
from soakbench.jobs import Driver, Plan
from soakbench.report import percentile, print_table, slope_per_minute
from soakbench.server import SoakServer
from wsbench.common import _loop_factory, raise_fd_limit

RESULTS = Path(__file__).resolve().parent / "results"
CONNECT_AT_ONCE = 64  # handshakes in flight while the subscribers connect
LEAVE_SECONDS = 30.0


async def sample_rss(server: SoakServer, every: float, began: float, out: list[Any]) -> None:
    while True:
        out.append((round(time.perf_counter() - began, 2), server.rss_kib()))
        await asyncio.sleep(every)


async def stored_jobs(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    while True:
        page = await http.get("/api/optimizations", params={"limit": 100, "offset": len(jobs)})
        page.raise_for_status()
        body = page.json()
        jobs += body["data"]
        if not body["meta"]["hasMore"]:
            return jobs


async def leave(driver: Driver, followers: list[Follower], tasks: list[Any]) -> list[str]:
    """End the load cleanly: every client unsubscribes before its socket closes, so that no
    send is in flight to a closing socket. Returns what went wrong."""
    errors: list[str] = []
    await driver.stop()
    left = await asyncio.gather(*(f.leave() for f in followers), return_exceptions=True)
    errors += [f"leaving: {e!r}" for e in left if isinstance(e, BaseException)]
    done, stuck = await asyncio.wait(tasks, timeout=LEAVE_SECONDS)
    for task in stuck:
        task.cancel()
    if stuck:
        errors.append(f"{len(stuck)} clients did not leave within {LEAVE_SECONDS} s")
    errors += [f"client: {t.exception()!r}" for t in done if t.exception() is not None]
    return errors


async def load(server: SoakServer, args: argparse.Namespace) -> dict[str, Any]:
    """Run the load for ``args.seconds`` and gather what it saw."""
    headers = {"Authorization": f"Bearer {server.key}"}
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, trust_env=False, timeout=30
    ) as http:
        plan = Plan(args.jobs, args.iterations, args.sim_latency_ms)
        driver = Driver(http, server.ws_url, server.key, plan)
        await driver.setup()
        rss: list[tuple[float, int]] = []
        tally = Tally()
        cpu = (server.cpu_seconds(), time.process_time(), os.getloadavg()[0])
        began = time.perf_counter()
        sampler = asyncio.create_task(sample_rss(server, args.sample_every, began, rss))
        driving = asyncio.create_task(driver.run())
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)
        followers = [
            Follower(i, driver.slots[i % args.jobs], server.ws_url, server.key, tally)
            for i in range(args.subscribers)
        ]
        running = [asyncio.create_task(f.run(gate)) for f in followers]
        connected = [asyncio.create_task(f.connected.wait()) for f in followers]
        await asyncio.wait(connected, timeout=args.seconds)
        for waiting in connected:
            waiting.cancel()
        ramp = time.perf_counter() - began
        await asyncio.sleep(max(0.0, began + args.seconds - time.perf_counter()))
        seconds = time.perf_counter() - began
        rss.append((round(seconds, 2), server.rss_kib()))
        cpu_used = {
            "serverCpuSeconds": round(server.cpu_seconds() - cpu[0], 2),
            "loadGeneratorCpuSeconds": round(time.process_time() - cpu[1], 2),
            "loadAverage1mStartEnd": [cpu[2], os.getloadavg()[0]],
        }
        sampler.cancel()
        errors = await leave(driver, followers, [*running, driving])
        jobs = await stored_jobs(http)
    errors += [*driver.errors, *tally.errors]
    missing = sum(not f.connected.is_set() for f in followers)
    if missing:
        errors.append(f"{missing} subscribers never connected")
    return {
        "tally": tally,
        "errors": errors,
        "rss": rss,
        "ramp": ramp,
        "seconds": seconds,
        "jobs": jobs,
        "started": driver.started,
        "connected": args.subscribers - missing,
        "cpu": cpu_used,
    }


def summarize(seen: dict[str, Any], rss_start: int, args: argparse.Namespace) -> dict[str, Any]:
    tally: Tally = seen["tally"]
    jobs, rss, seconds = seen["jobs"], seen["rss"], seen["seconds"]
    statuses = [j["status"] for j in jobs]
    errors = list(seen["errors"])
    for job in jobs:
        if job["status"] in ("failed", "cancelled"):
            errors.append(f"job {job['id']} is {job['status']}: {job.get('error')}")
    latencies = sorted(
        ms for kind, values in tally.latencies_ms.items() if kind not in UNTIMED for ms in values
    )
    by_type = {
        kind: {"p50": percentile(sorted(v), 0.5), "p99": percentile(sorted(v), 0.99)}
        for kind, v in sorted(tally.latencies_ms.items())
    }
    warmup = max(seen["ramp"], seconds / 4)
    kib = [r for _, r in rss]
    report: dict[str, Any] = {
        "config": {
            "seconds": args.seconds,
            "jobs": args.jobs,
            "subscribers": args.subscribers,
            "iterations": args.iterations,
            "simLatencyMs": args.sim_latency_ms,
            "sampleEverySeconds": args.sample_every,
        },
        "errors": len(errors),
        "errorSamples": errors[:20],
        "gaps": tally.gaps,
        "duplicates": tally.duplicates,
        "subscribersConnected": seen["connected"],
        "rampSeconds": round(seen["ramp"], 2),
        "jobsStarted": seen["started"],
        "jobsCompleted": statuses.count("completed"),
        "jobsFollowedBySubscribers": tally.jobs_followed,
        "jobsSeenToTheEndBySubscribers": tally.jobs_seen_to_the_end,
        "eventsWritten": sum(j["lastEventId"] for j in jobs),
        "eventsDelivered": tally.delivered,
        "liveDeliveries": tally.live,
        "replayDeliveries": tally.replayed,
        "deliveriesPerSecond": tally.delivered / seconds if seconds > 0 else 0.0,
        "latencyMs": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
            "samples": len(latencies),
            "byEventType": by_type,
        },
        "rssKiB": {"start": rss_start, "end": kib[-1], "max": max([rss_start, *kib])},
        "rssSamples": rss,
        "warmupSeconds": round(warmup, 1),
        "rssSlopeKiBPerMinute": slope_per_minute([s for s in rss if s[0] >= warmup]),
        "rssSlopeWholeRunKiBPerMinute": slope_per_minute(rss),
        "seconds": round(seconds, 2),
        "cpu": seen["cpu"],
    }
    report["ok"] = report["errors"] == 0 and tally.gaps == 0 and tally.duplicates == 0
    return report


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="whetstone-soak-") as tmp:
        data_dir = Path(tmp) / "data"
        async with SoakServer(data_dir, args.jobs) as server:
            rss_start = server.rss_kib()
            seen = await load(server, args)
        seen["errors"] += [f"server: {tb}" for tb in server.tracebacks()]
        return summarize(seen, rss_start, args)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    parser.add_argument("--jobs", type=int, default=20, help="jobs kept running at once")
    parser.add_argument("--subscribers", type=int, default=500, help="WebSocket clients")
    parser.add_argument("--iterations", type=int, default=15, help="maxIterations of a job")
    parser.add_argument(
        "--sim-latency-ms", type=int, default=150, help="the pace of every simulated call"
    )
    parser.add_argument("--sample-every", type=float, default=2.0, help="seconds between RSS")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= 100:
        parser.error("--jobs must be 1 to 100 (the driver follows them on one socket)")
    if args.subscribers < args.jobs:
        parser.error("--subscribers must be at least --jobs (every job has subscribers)")

    raise_fd_limit()  # the server process inherits it
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        report = runner.run(soak(args))
    report["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    print_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(0 if main()["ok"] else 1)
