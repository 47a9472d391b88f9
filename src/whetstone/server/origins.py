"""Which web pages may open the WebSocket: the ``Origin`` allow-list (docs/security.md).

A browser sends ``Origin`` with every WebSocket upgrade; other clients (the SDK, the CLI,
curl) send none. An upgrade is allowed when it has no ``Origin``, when its origin is the
server's own (the same scheme, host and port as the request's ``Host``), or when it is listed
in ``WHETSTONE_ALLOWED_ORIGINS`` (comma-separated ``scheme://host[:port]``; ``*`` allows any).
Anything else is refused before the socket is accepted: an HTTP 403 with a JSON error body
(where the server supports the ASGI WebSocket denial response, as uvicorn does), else a plain
403 (an ASGI ``websocket.close`` before the accept).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import orjson
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

FORBIDDEN = 403
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _origin(scheme: str, netloc: str) -> str | None:
    """``scheme://host:port`` with the port always spelled out, or None if not a web origin."""
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    try:
        parts = urlsplit(f"//{netloc}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def normalize(origin: str) -> str | None:
    """An ``Origin`` value (or an allow-list entry) in a comparable form; None if it is not
    ``http(s)://host[:port]`` (``null``, a bare host, another scheme)."""
    value = origin.strip().rstrip("/")
    scheme, sep, rest = value.partition("://")
    if not sep or "/" in rest:
        return None
    return _origin(scheme, rest)


def own_origin(scope: Scope) -> str | None:
    """The origin a page served by this server has: the request's scheme and ``Host``."""
    host = _header(scope, b"host")
    scheme = _HTTP_SCHEME.get(str(scope.get("scheme", "")))
    if not host or scheme is None:
        return None
    return _origin(scheme, host)


class OriginPolicy:
    """``WHETSTONE_ALLOWED_ORIGINS``, parsed once."""

    def __init__(self, allowed: str) -> None:
        entries = [e.strip() for e in allowed.split(",") if e.strip()]
        self.any = "*" in entries
        self.allowed: set[str] = set()
        for entry in entries:
            if entry == "*":
                continue
            normal = normalize(entry)
            if normal is None:
                log.warning(
                    "WHETSTONE_ALLOWED_ORIGINS: %r is not an origin (scheme://host[:port]); "
                    "ignored",
                    entry,
                )
                continue
            self.allowed.add(normal)

    def allows(self, scope: Scope) -> bool:
        origin = _header(scope, b"origin")
        if origin is None or self.any:
            return True  # not a browser, or any page may
        normal = normalize(origin)
        if normal is None:
            return False  # "null" (sandboxed page, file://) and anything malformed
        return normal in self.allowed or normal == own_origin(scope)


async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse the upgrade before accepting it: 403, with a JSON body where the server can."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client already left
    origin = _header(scope, b"origin") or ""
    log.warning("refused a WebSocket from origin %r (not allowed)", origin[:200])
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 4000 + FORBIDDEN})
        return
    body = orjson.dumps(
        {
            "error": {
                "code": "forbidden",
                "message": (
                    f"pages of origin {origin[:200]!r} may not open this WebSocket; serve the "
                    "page from this server, or list its origin in WHETSTONE_ALLOWED_ORIGINS "
                    "(comma-separated scheme://host[:port], '*' for any)"
                ),
                "details": {"origin": origin[:200]},
            }
        }
    )
    await send(
        {
            "type": "websocket.http.response.start",
            "status": FORBIDDEN,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
