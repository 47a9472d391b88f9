"""Settings and helpers shared by the streaming benchmark's parts."""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, cast

SCRIPT = Path(__file__).resolve().parent.parent / "streaming.py"  # children run it
HOST = "127.0.0.1"  # loopback only
WS_PATH = "/ws/optimization"
KINDS = ("whetstone", "raw")
CONNECT_AT_ONCE = 64  # handshakes + subscribes in flight while opening N clients
SETTLE_SECONDS = 1.0  # before reading RSS
PUBLISH_MAX_SECONDS = 120.0

FANOUT_RATIO = 0.5
LATENCY_P99_MS = 10.0
MEMORY_RATIO = 2.0
REPLAY_PER_SECOND = 50_000


# Fan-out publishes events the way the runner writes a step: several in one transaction,
# so that the figure measures delivery. The last row writes one event per transaction:
# that is the store's own write rate, reported beside it.
FANOUT_BATCH = 50


class Plan(NamedTuple):
    fanout: tuple[tuple[int, int, int], ...]  # (subscribers, events, events per write)
    repeats: int  # fan-out and replay runs per row; the median is reported
    latency: tuple[int, float, float]  # subscribers, events per second, seconds
    idle: int  # connections for the memory scenario
    replay: tuple[int, ...]  # stored events per replay row


FULL = Plan(
    ((1, 3000, FANOUT_BATCH), (100, 500, FANOUT_BATCH), (1000, 200, FANOUT_BATCH), (1, 1000, 1)),
    3,
    (100, 100.0, 8.0),
    1000,
    (10_000, 100_000),
)
QUICK = Plan(
    ((1, 200, FANOUT_BATCH), (10, 100, FANOUT_BATCH), (50, 40, FANOUT_BATCH), (1, 100, 1)),
    1,
    (10, 50.0, 1.0),
    50,
    (1_000, 5_000),
)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed, as ``uvicorn.run`` (so ``whetstone serve``) picks."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return None
    return cast(Callable[[], asyncio.AbstractEventLoop], uvloop.new_event_loop)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
