"""The WebSocket's ``Origin`` allow-list, on a real server: no ``Origin`` (not a browser) and
the server's own origin are allowed, ``WHETSTONE_ALLOWED_ORIGINS`` adds more, anything else
is refused with an HTTP 403 before the upgrade."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.types import Message
from websockets.exceptions import InvalidStatus

from tests.server.streaming.clients import bearer, http_client, ws
from tests.support.live import LiveServer
from whetstone.server.origins import OriginPolicy, normalize, own_origin, refuse
from whetstone.server.ratelimit import limiter_of


async def _refused(server: LiveServer, origin: str, key: str | None = None) -> dict[str, Any]:
    """Open a socket from ``origin``: it must be refused with 403; the error body."""
    with pytest.raises(InvalidStatus) as refused:
        async with ws(server, key, origin=origin):
            pass
    response = refused.value.response
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = orjson.loads(response.body or b"{}")
    return body


async def _allowed(server: LiveServer, key: str, origin: str | None) -> None:
    extra: dict[str, Any] = {} if origin is None else {"origin": origin}
    async with ws(server, key, **extra) as client:
        await client.ping()


# -- on a real server -----------------------------------------------------------------------


async def test_clients_without_an_origin_are_allowed(server: LiveServer, key: str) -> None:
    await _allowed(server, key, None)  # the SDK, the CLI, curl


async def test_the_servers_own_origin_is_allowed(server: LiveServer, key: str) -> None:
    await _allowed(server, key, f"http://127.0.0.1:{server.port}")
    await _allowed(server, key, f"HTTP://127.0.0.1:{server.port}/")


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://127.0.0.1.evil.example",
        "http://localhost:{port}",  # same machine, but not the Host the page was served as
        "https://127.0.0.1:{port}",  # another scheme
        "http://127.0.0.1:1",  # another port
        "http://127.0.0.1",  # port 80
        "null",  # a sandboxed page or file://
        "not an origin",
    ],
)
async def test_foreign_origins_are_refused_before_the_upgrade(
    server: LiveServer, key: str, origin: str
) -> None:
    origin = origin.format(port=server.port)
    body = await _refused(server, origin, key)
    error = body["error"]
    assert error["code"] == "forbidden"
    assert "WHETSTONE_ALLOWED_ORIGINS" in error["message"]
    assert error["details"] == {"origin": origin}
    # refused before authenticating: the key was not even looked at
    limiter = limiter_of({"app": server.server.config.app})
    assert limiter is not None
    assert len(limiter.buckets) == 0


@pytest.mark.parametrize(
    "settings_overrides",
    [{"allowed_origins": "https://app.example.com, http://localhost:5173/ ,"}],
)
async def test_listed_origins_are_allowed(server: LiveServer, key: str) -> None:
    await _allowed(server, key, "https://app.example.com")
    await _allowed(server, key, "https://app.example.com:443")
    await _allowed(server, key, "http://localhost:5173")
    await _allowed(server, key, f"http://127.0.0.1:{server.port}")  # its own, still
    await _refused(server, "http://app.example.com", key)
    await _refused(server, "https://app.example.com:8443", key)
    await _refused(server, "http://localhost:5174", key)


@pytest.mark.parametrize("settings_overrides", [{"allowed_origins": "*"}])
async def test_a_star_allows_any_origin(server: LiveServer, key: str) -> None:
    await _allowed(server, key, "https://anything.example")
    await _allowed(server, key, "null")


async def test_an_allowed_origin_still_needs_a_key(server: LiveServer) -> None:
    async with ws(server, origin=f"http://127.0.0.1:{server.port}") as client:
        await client.send({"type": "ping"})
        frame = await client.recv()
        assert frame["type"] == "error"
        assert frame["code"] == "unauthorized"
        assert await client.closed() == 4401


async def test_sse_is_not_origin_checked_but_sends_no_cors_headers(
    server: LiveServer, key: str
) -> None:
    """SSE needs the key in a header, which a page of another origin can only send after a
    CORS preflight; the server answers no CORS header, so such a page cannot read it."""
    async with http_client(server) as client:
        headers = {**bearer(key), "Origin": "https://evil.example"}
        preflight = await client.options(
            "/api/optimizations/x/stream",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
        response = await client.get("/api/optimizations/x/stream", headers=headers)
        assert response.status_code == 404
        assert "access-control-allow-origin" not in response.headers


# -- the policy -----------------------------------------------------------------------------


def _scope(origin: str | None, host: str = "127.0.0.1:8000", scheme: str = "ws") -> Any:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("http://Example.COM", "http://example.com:80"),
        ("https://example.com/", "https://example.com:443"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("example.com", None),
        ("ftp://example.com", None),
        ("http://example.com/path", None),
        ("http://example.com:notaport", None),
        ("http://", None),
    ],
)
def test_normalize(origin: str, normal: str | None) -> None:
    assert normalize(origin) == normal


def test_own_origin_follows_the_scheme_and_host() -> None:
    assert own_origin(_scope(None)) == "http://127.0.0.1:8000"
    assert own_origin(_scope(None, "example.com", "wss")) == "https://example.com:443"
    assert own_origin(_scope(None, "[::1]:9000")) == "http://[::1]:9000"
    assert own_origin({"type": "websocket", "scheme": "ws", "headers": []}) is None


def test_the_policy() -> None:
    policy = OriginPolicy("https://app.example.com,  junk , http://10.0.0.5:3000")
    assert policy.allowed == {"https://app.example.com:443", "http://10.0.0.5:3000"}
    assert policy.allows(_scope(None))
    assert policy.allows(_scope("http://127.0.0.1:8000"))
    assert policy.allows(_scope("https://example.com", "example.com", "wss"))
    assert policy.allows(_scope("https://app.example.com"))
    assert policy.allows(_scope("http://10.0.0.5:3000"))
    assert not policy.allows(_scope("http://example.com", "example.com", "wss"))
    assert not policy.allows(_scope("http://10.0.0.5:3001"))
    assert not policy.allows(_scope("null"))
    assert not policy.allows(_scope("http://127.0.0.1:8000", host=""))
    assert OriginPolicy("*").allows(_scope("null"))


async def test_without_the_denial_extension_the_refusal_is_a_close_before_accept() -> None:
    """ASGI servers answer a ``websocket.close`` sent before the accept with HTTP 403."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await refuse(_scope("https://evil.example"), receive, send)
    assert sent == [{"type": "websocket.close", "code": 4403}]
    sent.clear()
    scope = {**_scope("https://evil.example"), "extensions": {"websocket.http.response": {}}}
    await refuse(scope, receive, send)
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 403
