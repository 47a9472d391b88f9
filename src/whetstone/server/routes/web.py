"""The web dashboard's files: ``index.html`` for every page route, ``/static/…`` for the rest.

None of these hold data (the pages fetch it with the user's key), so they need no key. The
HTML carries a strict Content-Security-Policy: scripts, styles and connections to this
origin only, no inline script or style. Every file is revalidated (``no-cache`` + ETag).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request, Response

from whetstone.errors import NotFound
from whetstone.web import CLIENT_JS, STATIC_DIR

router = APIRouter(include_in_schema=False)

# The client-side routes of static/app.js; each answers with the same index.html.
PAGE_ROUTES = (
    "/",
    "/login",
    "/new",
    "/prompts",
    "/prompts/{item_id}",
    "/datasets",
    "/datasets/{item_id}",
    "/optimizations/{item_id}",
)

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}

COMMON_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _file_response(request: Request, path: Path, extra: dict[str, str] | None = None) -> Response:
    try:
        body = path.read_bytes()
    except OSError:
        raise NotFound(f"no such file: {request.url.path}") from None
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**COMMON_HEADERS, "ETag": etag, **(extra or {})}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    media_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return Response(body, media_type=media_type, headers=headers)


async def index(request: Request) -> Response:
    headers = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY"}
    return _file_response(request, STATIC_DIR / "index.html", headers)


for _route in PAGE_ROUTES:
    router.add_api_route(_route, index, methods=["GET"], response_class=Response)


@router.get("/static/{file_path:path}")
async def static_file(file_path: str, request: Request) -> Response:
    if file_path == "whetstone.js":
        return _file_response(request, CLIENT_JS)
    root = STATIC_DIR.resolve()
    target = (root / file_path).resolve()
    if (
        not target.is_relative_to(root)
        or not target.is_file()
        or target.suffix not in CONTENT_TYPES
    ):
        raise NotFound(f"no such file: {request.url.path}")
    return _file_response(request, target)
