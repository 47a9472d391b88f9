"""Rate limits: a token bucket per API key, and one per client address for requests that
carry no valid key (docs/security.md).

A bucket holds up to ``WHETSTONE_RATE_LIMIT_BURST`` tokens and refills at
``WHETSTONE_RATE_LIMIT_PER_MINUTE`` per minute; every request takes one token, and a request
that finds none is answered ``429 rate_limited`` with a ``Retry-After`` header (whole
seconds, at least 1). ``WHETSTONE_RATE_LIMIT_PER_MINUTE=0`` turns limiting off.

What is counted:

- a request with a valid key: one token from that key's bucket (in :func:`authenticate`,
  the ``Key`` dependency of every keyed route);
- a request without a key, or with a wrong one: one token from its address's bucket, and an
  address whose bucket is empty gets 429 for *every* keyed request until it refills, so a
  right guess after many wrong ones is not told apart;
- ``POST /api/auth/login`` (which needs no key): one token from the address's bucket
  (:class:`AddressLimit`);
- a WebSocket connection: the same as a request, when it authenticates
  (``ws/session.py``); commands on an open socket are not counted.

Routes that never ask for a key (``GET /api/health``, the web pages, ``/static``) are never
counted. Time comes from the injected clock (``Services.clock``), so tests are exact.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from whetstone.clock import Clock
from whetstone.domain.job import ApiKey
from whetstone.errors import RateLimited
from whetstone.server.services import Services
from whetstone.settings import Settings

MAX_BUCKETS = 50_000  # least recently used buckets beyond this are forgotten (reset to full)
_ADDRESS = "from this address without a valid API key"
# Requests that need no key but are counted against the client's address.
ADDRESS_LIMITED: frozenset[tuple[str, str]] = frozenset({("POST", "/api/auth/login")})


class TooManyRequests(RateLimited):
    """:class:`RateLimited` with the wait, for the ``Retry-After`` header."""

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any]) -> None:
        super().__init__(message, details={**details, "retryAfter": retry_after})
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # clock seconds of the last update


class TokenBuckets:
    """Named token buckets on ``clock``, each starting full."""

    def __init__(
        self, per_minute: float, burst: int, clock: Clock, *, max_buckets: int = MAX_BUCKETS
    ) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def _refilled(self, name: str) -> _Bucket:
        now = self._clock.now().timestamp()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets[name] = bucket
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self._rate)
            bucket.at = now
        return bucket

    def wait(self, name: str) -> float:
        """Seconds until ``name`` has a token (0: it has one now); takes nothing."""
        if not self.enabled:
            return 0.0
        bucket = self._refilled(name)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self._rate

    def take(self, name: str) -> float:
        """Take a token from ``name``: 0 if there was one, else the seconds until there is."""
        wait = self.wait(name)
        if self.enabled and wait == 0:
            self._buckets[name].tokens -= 1
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimiter:
    """The buckets of one server: ``key:<key id>`` and ``addr:<client address>``."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.buckets = TokenBuckets(
            settings.rate_limit_per_minute, settings.rate_limit_burst, clock
        )

    @property
    def enabled(self) -> bool:
        return self.buckets.enabled

    def charge_key(self, key_id: str) -> None:
        self._raise(self.buckets.take(f"key:{key_id}"), "for this API key")

    def check_address(self, address: str) -> None:
        """429 if the address has spent its budget (takes nothing)."""
        self._raise(self.buckets.wait(f"addr:{address}"), _ADDRESS)

    def charge_address(self, address: str) -> None:
        self._raise(self.buckets.take(f"addr:{address}"), _ADDRESS)

    def _raise(self, wait: float, who: str) -> None:
        if wait <= 0:
            return
        retry_after = max(1, math.ceil(wait - 1e-9))
        per_minute, burst = self.buckets.per_minute, self.buckets.burst
        raise TooManyRequests(
            f"too many requests {who}: at most {per_minute:g} a minute, in bursts of "
            f"{burst}; retry in {retry_after} s (Retry-After), or raise "
            "WHETSTONE_RATE_LIMIT_PER_MINUTE / WHETSTONE_RATE_LIMIT_BURST on the server "
            "(0 turns the limit off)",
            retry_after=retry_after,
            details={"limitPerMinute": per_minute, "burst": burst},
        )


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def limiter_of(scope: Scope) -> RateLimiter | None:
    """The limiter :func:`install` put on the app serving ``scope`` (None: no limits)."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    limiter = getattr(state, "rate_limiter", None)
    return limiter if isinstance(limiter, RateLimiter) else None


async def authenticate(
    scope: Scope, token: str | None, check: Callable[[str], Awaitable[ApiKey | None]]
) -> ApiKey | None:
    """``check(token)`` under the limits: a valid key is charged to its own bucket,
    anything else to the client's address; raises :class:`TooManyRequests` when over."""
    limiter = limiter_of(scope)
    if limiter is None or not limiter.enabled:
        return await check(token) if token else None
    address = client_address(scope)
    if token:
        limiter.check_address(address)  # a spent address learns nothing, not even a right key
    key = await check(token) if token else None
    if key is None:
        limiter.charge_address(address)
    else:
        limiter.charge_key(key.id)
    return key


class AddressLimit:
    """Counts the keyless requests of :data:`ADDRESS_LIMITED` against the client's address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) in ADDRESS_LIMITED:
            limiter = limiter_of(scope)
            if limiter is not None:
                try:
                    limiter.charge_address(client_address(scope))
                except TooManyRequests as exc:
                    await _reject(exc, send)
                    return
        await self.app(scope, receive, send)


async def _reject(exc: TooManyRequests, send: Send) -> None:
    body = orjson.dumps(exc.to_body())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(exc.retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, services: Services) -> None:
    """Limits for ``app``: the buckets (on ``app.state``), the 429 answer with
    ``Retry-After``, and the address limit of the keyless routes."""
    app.state.rate_limiter = RateLimiter(services.settings, services.clock)

    async def too_many(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TooManyRequests)
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=exc.headers())

    app.add_exception_handler(TooManyRequests, too_many)
    app.add_middleware(AddressLimit)
