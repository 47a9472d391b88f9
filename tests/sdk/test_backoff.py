"""The reconnect schedule alone: exponential, capped, fully jittered, reset, bounded."""

from __future__ import annotations

import random

import pytest

from whetstone.sdk import ReconnectPolicy
from whetstone.sdk.backoff import Backoff


def test_the_default_schedule_doubles_from_half_a_second_to_twenty() -> None:
    backoff = Backoff(ReconnectPolicy(), random.Random(1))
    delays = [backoff.next_delay() for _ in range(10)]
    reference = random.Random(1)
    caps = [0.5, 1, 2, 4, 8, 16, 20, 20, 20, 20]
    assert delays == [reference.uniform(0, cap) for cap in caps]
    assert all(0 <= d <= cap for d, cap in zip(delays, caps, strict=True))


def test_full_jitter_spreads_over_the_whole_range() -> None:
    rng = random.Random(5)
    delays = []
    for _ in range(2000):
        backoff = Backoff(ReconnectPolicy(), rng)
        backoff.failures = 6  # capped at 20 s
        delays.append(backoff.next_delay())
    assert 0 <= min(delays) < 1
    assert 19 < max(delays) <= 20
    assert 9 < sum(delays) / len(delays) < 11


def test_reset_and_exhaustion() -> None:
    backoff = Backoff(ReconnectPolicy(max_attempts=3), random.Random(0))
    seen = []
    for _ in range(3):
        seen.append(backoff.exhausted)
        backoff.next_delay()
    seen.append(backoff.exhausted)
    backoff.reset()
    seen.append(backoff.exhausted)
    assert seen == [False, False, False, True, False]
    assert backoff.failures == 0
    forever = Backoff(ReconnectPolicy(max_attempts=None), random.Random(0))
    forever.failures = 10_000  # no overflow, still capped
    assert 0 <= forever.next_delay() <= 20
    assert not forever.exhausted


@pytest.mark.parametrize(
    "bad",
    [
        {"initial_delay": -1},
        {"initial_delay": 5, "max_delay": 1},
        {"multiplier": 0.5},
        {"max_attempts": 0},
        {"heartbeat_timeout": 0},
        {"stable_after": -1},
    ],
)
def test_a_nonsense_policy_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must be|need"):
        ReconnectPolicy(**bad)  # type: ignore[arg-type]
