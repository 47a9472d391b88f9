"""The soak's figures: latency percentiles, the RSS trend, the table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def percentile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slope_per_minute(samples: Sequence[tuple[float, int]]) -> float | None:
    """The least-squares slope of (seconds, KiB) samples, in KiB per minute."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (r - mean_r) for t, r in samples)
    return cov / var * 60


def _mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def print_table(report: dict[str, Any]) -> None:
    c, rss, lat, cpu = report["config"], report["rssKiB"], report["latencyMs"], report["cpu"]
    slope = report["rssSlopeKiBPerMinute"]
    shown_slope = "n/a" if slope is None else f"{slope / 1024:+.2f} MiB/min"
    rows = [
        ("errors", f"{report['errors']}"),
        ("gaps / duplicates", f"{report['gaps']} / {report['duplicates']}"),
        ("jobs started / completed", f"{report['jobsStarted']} / {report['jobsCompleted']}"),
        ("events written (all jobs)", f"{report['eventsWritten']:,}"),
        (
            "events delivered",
            f"{report['eventsDelivered']:,} ({report['liveDeliveries']:,} live, "
            f"{report['replayDeliveries']:,} replayed)",
        ),
        ("deliveries/s", f"{report['deliveriesPerSecond']:,.0f}"),
        (
            "latency p50 / p99 / max ms",
            f"{_ms(lat['p50'])} / {_ms(lat['p99'])} / {_ms(lat['max'])} "
            f"({lat['samples']:,} live events)",
        ),
        (
            "server RSS start / end / max",
            f"{_mib(rss['start'])} / {_mib(rss['end'])} / {_mib(rss['max'])}",
        ),
        (f"RSS slope after {report['warmupSeconds']:.0f} s warm-up", shown_slope),
        (
            "CPU: server / load generator",
            f"{cpu['serverCpuSeconds'] / report['seconds']:.0%} / "
            f"{cpu['loadGeneratorCpuSeconds'] / report['seconds']:.0%} of a core "
            f"(load average {cpu['loadAverage1mStartEnd'][0]:.1f} at the start)",
        ),
    ]
    print(
        f"\nSoak: {c['seconds']:.0f} s, {c['jobs']} dry-run jobs kept running "
        f"({c['iterations']} iterations, simLatencyMs {c['simLatencyMs']}), "
        f"{c['subscribers']} WebSocket subscribers ({c['subscribers'] / c['jobs']:.0f} per job)"
    )
    width = max(len(name) for name, _ in rows)
    print(f"{'metric':{width}}  value")
    for name, value in rows:
        print(f"{name:{width}}  {value}")
    verdict = "PASS" if report["ok"] else "FAIL"
    print(f"{verdict}: errors, gaps and duplicates must all be 0")
