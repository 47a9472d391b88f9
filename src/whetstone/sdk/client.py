"""``AsyncWhetstone``: the SDK, written once, async. ``Whetstone`` (``sync.py``) wraps it."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from whetstone.sdk.backoff import ReconnectPolicy, Timing
from whetstone.sdk.http import Http, resolve_key, resolve_url
from whetstone.sdk.links import Link, LinkKind, SseLink, WebSocketLink
from whetstone.sdk.models import Health
from whetstone.sdk.optimization import AsyncOptimization
from whetstone.sdk.resources import AsyncDatasets, AsyncPrompts


class AsyncWhetstone:
    """A client of one Whetstone server.

    ``base_url`` defaults to ``WHETSTONE_URL``, else ``http://127.0.0.1:8000``; ``api_key``
    to ``WHETSTONE_API_KEY``. ``transport`` is an httpx transport for the REST calls (tests
    pass ``httpx.MockTransport`` or ``httpx.ASGITransport``); the WebSocket always opens a
    real socket to ``base_url``. ``reconnect`` sets how subscriptions reconnect; ``timing``
    injects their clock, sleep and random source. ``trust_env`` honours proxy variables.

    Close it with ``await client.aclose()`` or ``async with``: that also ends every open
    subscription.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        reconnect: ReconnectPolicy | None = None,
        timing: Timing | None = None,
        trust_env: bool = True,
    ) -> None:
        self.base_url = resolve_url(base_url)
        policy = reconnect or ReconnectPolicy()
        self._http = Http(
            self.base_url,
            resolve_key(api_key),
            timeout=timeout,
            transport=transport,
            headers=headers,
            trust_env=trust_env,
        )
        links: dict[LinkKind, Link] = {
            "websocket": WebSocketLink(self.base_url, self._http.headers, trust_env=trust_env),
            "sse": SseLink(self._http, policy.connect_timeout),
        }
        self.prompts = AsyncPrompts(self._http)
        self.datasets = AsyncDatasets(self._http)
        self.optimization = AsyncOptimization(self._http, links, policy, timing or Timing())

    async def health(self) -> Health:
        """``GET /api/health`` (needs no key)."""
        return Health.from_wire((await self._http.get("/api/health")).data)

    async def login_link(self, next_path: str = "/") -> str:
        """A one-time browser login link (``POST /api/auth/login-links``): opening it signs
        a browser in to this key's workspace and goes to ``next_path``. It works once,
        within 15 minutes; its code is in the URL fragment, which never reaches the server's
        logs."""
        answer = await self._http.post("/api/auth/login-links", {"next": next_path})
        return str(answer.data["url"])

    async def aclose(self) -> None:
        await self.optimization.aclose()
        await self._http.aclose()

    async def __aenter__(self) -> AsyncWhetstone:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncWhetstone(base_url={self.base_url!r})"
