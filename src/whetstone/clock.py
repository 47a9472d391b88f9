"""Time and ids, injected so tests can control them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to, or by ``tick`` seconds at every reading
    (so that successive timestamps differ and order is deterministic)."""

    def __init__(self, start: datetime | None = None, *, tick: float = 0.0) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._tick = timedelta(seconds=tick)

    def now(self) -> datetime:
        now = self._now
        self._now += self._tick
        return now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str, nbytes: int = 12) -> str:
    """A random id with a type prefix, e.g. ``job_3k9…``; 96 bits of randomness by default."""
    value = int.from_bytes(secrets.token_bytes(nbytes), "big")
    chars = []
    for _ in range((nbytes * 8 + 4) // 5):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(chars)}"
