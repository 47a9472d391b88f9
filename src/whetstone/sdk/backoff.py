"""How a subscription reconnects: the policy (numbers), the schedule (pure), and the
clock, sleep and random source it runs on (injected, so tests need no real waiting)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter: the n-th retry in a row waits a uniformly random
    time in ``[0, min(max_delay, initial_delay * multiplier**n))``.

    - ``max_attempts``: failed connection attempts in a row before giving up (the
      subscription's ``on_error`` gets a ``WhetstoneConnectionError``); None retries forever.
    - ``stable_after``: a connection that stayed up this long resets the schedule.
    - ``heartbeat_timeout``: silence longer than this means the link is dead (the server
      sends a heartbeat every 25 s on an idle socket), so the SDK reconnects.
    - ``connect_timeout``: for opening a connection, up to the server's ``subscribed``.
    """

    initial_delay: float = 0.5
    max_delay: float = 20.0
    multiplier: float = 2.0
    max_attempts: int | None = 20
    stable_after: float = 10.0
    heartbeat_timeout: float = 35.0
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < self.initial_delay:
            raise ValueError("need 0 <= initial_delay <= max_delay")
        if self.multiplier < 1:
            raise ValueError("multiplier must be >= 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1, or None to retry forever")
        if min(self.heartbeat_timeout, self.connect_timeout) <= 0 or self.stable_after < 0:
            raise ValueError("timeouts must be > 0 and stable_after >= 0")


@dataclass(frozen=True, slots=True)
class Timing:
    """The clock (monotonic seconds), the sleep and the jitter's random source."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)


class Backoff:
    """The delay before each retry; :meth:`reset` after a stable connection."""

    def __init__(self, policy: ReconnectPolicy, rng: random.Random) -> None:
        self._policy = policy
        self._rng = rng
        self.failures = 0  # failed attempts in a row

    def next_delay(self) -> float:
        p = self._policy
        cap = min(p.max_delay, p.initial_delay * p.multiplier ** min(self.failures, 64))
        self.failures += 1
        return self._rng.uniform(0, cap)

    @property
    def exhausted(self) -> bool:
        limit = self._policy.max_attempts
        return limit is not None and self.failures >= limit

    def reset(self) -> None:
        self.failures = 0
