"""One-time login links: ``POST /api/auth/login-links`` and ``POST /api/auth/login``, the
in-memory code store, and the link ``whetstone serve`` prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.api import Api
from tests.support.live import free_port
from tests.support.process import read_until
from whetstone.clock import ManualClock
from whetstone.domain.codec import parse_timestamp
from whetstone.server.login_links import TTL, LoginLinks, safe_next

START_TIMEOUT = 20.0


async def mint(client: httpx.AsyncClient, auth: dict[str, str], **body: str) -> dict[str, str]:
    response = await client.post("/api/auth/login-links", headers=auth, json=body or None)
    assert response.status_code == 201, response.text
    data: dict[str, str] = response.json()["data"]
    return data


def code_of(url: str) -> str:
    return parse_qs(urlsplit(url).fragment)["code"][0]


async def login(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"code": code})


async def test_a_link_carries_its_code_in_the_fragment_and_expires_in_15_minutes(
    client: httpx.AsyncClient, auth: dict[str, str], clock: ManualClock
) -> None:
    before = clock.now()
    link = await mint(client, auth, next="/optimizations/job_1")
    parts = urlsplit(link["url"])
    assert (parts.scheme, parts.netloc, parts.path, parts.query) == ("http", "test", "/login", "")
    fragment = parse_qs(parts.fragment)
    assert fragment["next"] == ["/optimizations/job_1"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", fragment["code"][0])
    expires = parse_timestamp(link["expiresAt"]) - before
    assert TTL <= expires < TTL + TTL / 100
    assert code_of((await mint(client, auth))["url"]) != fragment["code"][0]
    assert "next=/" in (await mint(client, auth))["url"]


async def test_a_code_buys_a_new_key_of_the_workspace_once(
    client: httpx.AsyncClient, auth: dict[str, str], api: Api
) -> None:
    prompt = await api.prompt()
    code = code_of((await mint(client, auth))["url"])

    response = await login(client, code)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert set(data) == {"apiKey", "workspaceId"}
    assert data["apiKey"] != auth["Authorization"].removeprefix("Bearer ")
    fresh = {"Authorization": f"Bearer {data['apiKey']}"}
    seen = await client.get(f"/api/prompts/{prompt['id']}", headers=fresh)
    assert seen.status_code == 200

    again = await login(client, code)
    assert again.status_code == 401
    error = again.json()["error"]
    assert error["code"] == "unauthorized"
    assert "already used" in error["message"]


async def test_the_new_key_sees_only_the_minting_workspace(
    client: httpx.AsyncClient, auth: dict[str, str], other_auth: dict[str, str], api: Api
) -> None:
    mine = await api.prompt()
    code = code_of((await mint(client, other_auth))["url"])
    data = (await login(client, code)).json()["data"]
    headers = {"Authorization": f"Bearer {data['apiKey']}"}
    assert (await client.get(f"/api/prompts/{mine['id']}", headers=headers)).status_code == 404
    own = await client.get("/api/prompts", headers=other_auth)
    theirs = await client.get("/api/prompts", headers=headers)
    assert theirs.json()["data"] == own.json()["data"]


async def test_an_expired_or_unknown_code_is_unauthorized(
    client: httpx.AsyncClient, auth: dict[str, str], clock: ManualClock
) -> None:
    code = code_of((await mint(client, auth))["url"])
    clock.advance(TTL.total_seconds() + 1)
    for attempt in (code, "not-a-code", "x" * 43):
        response = await login(client, attempt)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


async def test_minting_needs_a_key_and_logging_in_needs_none(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.post("/api/auth/login-links")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # With a key and no body at all: next is "/".
    bare = await client.post("/api/auth/login-links", headers=auth)
    assert bare.status_code == 201
    assert bare.json()["data"]["url"].endswith("&next=/")
    assert (await login(client, code_of(bare.json()["data"]["url"]))).status_code == 200


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "relative", "/a\nb"],
)
async def test_next_must_be_a_path_on_this_site(
    client: httpx.AsyncClient, auth: dict[str, str], next_path: str
) -> None:
    response = await client.post("/api/auth/login-links", headers=auth, json={"next": next_path})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "next" in error["details"]


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 12}, {"code": "a", "extra": 1}])
async def test_a_malformed_login_body_is_invalid(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_the_endpoints_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "post" in paths["/api/auth/login-links"]
    assert "post" in paths["/api/auth/login"]
    assert not any(p.startswith("/static") or p in ("/", "/login") for p in paths)


def test_codes_are_single_use_and_independent() -> None:
    clock = ManualClock()
    links = LoginLinks(clock)
    codes = [links.mint(f"ws_{i}", "/")[0] for i in range(3)]
    assert len(links) == 3
    found = links.redeem(codes[1])
    assert found is not None
    assert found.workspace_id == "ws_1"
    assert links.redeem(codes[1]) is None
    assert [e.workspace_id for c in (codes[0], codes[2]) if (e := links.redeem(c))] == [
        "ws_0",
        "ws_2",
    ]
    assert len(links) == 0


def test_the_oldest_pending_codes_go_past_the_cap_and_expired_ones_are_pruned() -> None:
    clock = ManualClock()
    links = LoginLinks(clock, max_pending=2)
    first, _ = links.mint("ws", "/")
    second, _ = links.mint("ws", "/")
    third, _ = links.mint("ws", "/")
    assert links.redeem(first) is None
    assert links.redeem(second) is not None
    clock.advance(TTL.total_seconds())
    assert links.redeem(third) is None
    assert len(links) == 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [(None, "/"), ("", "/"), ("/", "/"), ("/prompts?x=1#y", "/prompts?x=1#y"), ("//x", None)],
)
def test_safe_next(path: str | None, expected: str | None) -> None:
    assert safe_next(path) == expected


def test_whetstone_serve_prints_a_working_login_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WHETSTONE_SECRET_KEY", "WHETSTONE_DATA_DIR", "WHETSTONE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    command = [sys.executable, "-c", "from whetstone.cli.main import main; main()", "serve"]
    command += ["--port", str(port), "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        output = read_until(proc, b"Application startup complete", START_TIMEOUT)
        found = re.search(rb"(http://127\.0\.0\.1:\d+/login#code=[\w-]+&next=/)", output)
        assert found is not None, output
        url = found.group(1).decode()
        assert url.startswith(f"http://127.0.0.1:{port}/login#")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            response = http.post("/api/auth/login", json={"code": code_of(url)})
            assert response.status_code == 200, response.text
            key = response.json()["data"]["apiKey"]
            local = (tmp_path / "data" / "cli.key").read_text().strip()
            assert key != local
            headers = {"Authorization": f"Bearer {key}"}
            assert http.get("/api/optimizations", headers=headers).status_code == 200
            assert http.post("/api/auth/login", json={"code": code_of(url)}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(START_TIMEOUT)
        assert proc.stderr is not None
        proc.stderr.close()
