"""When to call a provider again: exponential backoff with full jitter, ``Retry-After``,
and a bound on the total time spent waiting. Pure decisions; the caller does the waiting
with the policy's injected ``sleep``."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from whetstone.clock import Clock, SystemClock

# 529 is Anthropic's "overloaded".
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryDecision:
    wait: float | None  # seconds to wait before the next attempt; None: give up
    reason: str = ""  # why not, when giving up


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` calls at most (the first one included). After failed attempt *n*
    the wait is uniform in ``[0, min(max_delay, base_delay * 2**(n-1))]`` ("full jitter"),
    raised to the provider's ``Retry-After`` if that is longer. The waits of one call add
    up to ``max_total_wait`` at most (request time is not counted: each attempt is bounded
    by the provider's timeout instead); a ``Retry-After`` beyond what is left ends the
    call at once rather than waiting only part of it."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total_wait: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    sleep: Sleep = field(default=asyncio.sleep, compare=False, repr=False)
    clock: Clock = field(default_factory=SystemClock, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        for name in ("base_delay", "max_delay", "max_total_wait"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    def backoff(self, attempt: int) -> float:
        """The jittered wait after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))
        return self.rng.uniform(0.0, ceiling)

    def decide(self, attempt: int, waited: float, retry_after: float | None) -> RetryDecision:
        """Whether to try again after failed attempt ``attempt``, ``waited`` seconds having
        been spent waiting already, the provider having asked for ``retry_after``."""
        if attempt >= self.max_attempts:
            return RetryDecision(None, "retries exhausted")
        remaining = self.max_total_wait - waited
        if remaining <= 1e-9:
            return RetryDecision(None, f"the {self.max_total_wait:g} s retry wait bound is spent")
        if retry_after is not None and retry_after > remaining:
            return RetryDecision(
                None,
                f"it asked to retry after {retry_after:g} s (Retry-After), more than the "
                f"{remaining:g} s left of the {self.max_total_wait:g} s retry wait bound",
            )
        return RetryDecision(min(max(self.backoff(attempt), retry_after or 0.0), remaining))


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the provider asks to wait: ``retry-after-ms`` (OpenAI) if present, else
    ``Retry-After`` as seconds or an HTTP date. ``None`` when absent or unreadable."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return None if math.isnan(number) else max(0.0, number)
