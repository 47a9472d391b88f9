"""The dashboard's files as the server sends them (no browser needed): page routes, static
files, headers, and that nothing of the API is shadowed."""

from __future__ import annotations

import re

import httpx
import pytest

from whetstone.server.routes.web import PAGE_ROUTES
from whetstone.web import CLIENT_JS, STATIC_DIR

PAGES = ["/", "/login", "/new", "/prompts", "/prompts/prm_x", "/datasets", "/datasets/ds_x"]
PAGES += ["/optimizations/job_x"]


def test_every_client_route_of_app_js_is_served() -> None:
    app_js = (STATIC_DIR / "app.js").read_text()
    patterns = re.findall(r'pattern: "([^"]+)"', app_js)
    assert {re.sub(r":\w+", "{item_id}", p) for p in patterns} == set(PAGE_ROUTES)


@pytest.mark.parametrize("path", PAGES)
async def test_page_routes_serve_the_shell_without_a_key(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "connect-src 'self' ws: wss:" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.text == (STATIC_DIR / "index.html").read_text()


def test_the_shell_has_no_inline_script_or_style() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert "<style" not in html
    assert "style=" not in html
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert "http://" not in html
    assert "https://" not in html


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/static/pages/job.js", "text/javascript; charset=utf-8"),
        ("/static/lib/dom.js", "text/javascript; charset=utf-8"),
    ],
)
async def test_static_files(client: httpx.AsyncClient, path: str, content_type: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC_DIR / path.removeprefix("/static/")).read_bytes()


async def test_the_client_is_served_from_web_js(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/whetstone.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == CLIENT_JS.read_bytes()


async def test_an_unchanged_file_is_not_sent_again(client: httpx.AsyncClient) -> None:
    first = await client.get("/static/app.js")
    etag = first.headers["etag"]
    again = await client.get("/static/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    [
        "/static/nope.js",
        "/static/%2e%2e/__init__.py",
        "/static/..%2f__init__.py",
        "/static/lib/../../__init__.py",
        "/static/lib",
        "/static/",
    ],
)
async def test_missing_or_outside_files_are_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/nope", "/api/optimizations/x/nope", "/optimizations", "/x"])
async def test_unknown_paths_stay_json_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_the_api_docs_and_health_are_not_shadowed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/health")).json()["data"]["status"] == "ok"
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Whetstone"
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    unauth = await client.get("/api/optimizations")
    assert unauth.status_code == 401
