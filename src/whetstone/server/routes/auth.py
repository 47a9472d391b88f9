"""Browser sign-in with one-time login links (docs/web.md, docs/api.md).

``POST /api/auth/login-links`` (with a key) mints a link; ``POST /api/auth/login`` (no key)
trades its code, once, for a new API key of the workspace that minted it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, field_validator
from starlette.requests import HTTPConnection

from whetstone.domain.codec import format_timestamp
from whetstone.errors import Unauthorized
from whetstone.server import serialize
from whetstone.server.deps import Key, Svc
from whetstone.server.login_links import LoginLinks, login_url, safe_next
from whetstone.server.schemas import Body

router = APIRouter(prefix="/api/auth", tags=["auth"])

BROWSER_KEY_NAME = "browser (login link)"


def login_links(conn: HTTPConnection) -> LoginLinks:
    links: LoginLinks = conn.app.state.login_links
    return links


class LoginLinkIn(Body):
    next: Annotated[str, Field(max_length=2000)] = "/"

    @field_validator("next")
    @classmethod
    def _same_site(cls, value: str) -> str:
        checked = safe_next(value)
        if checked is None:
            raise ValueError("must be a path on this site, starting with a single '/'")
        return checked


class LoginIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=200)]


@router.post(
    "/login-links",
    status_code=201,
    summary="A one-time browser login link (code in the URL fragment, valid 15 minutes)",
)
async def create_login_link(
    request: Request, key: Key, body: LoginLinkIn | None = None
) -> dict[str, Any]:
    next_path = body.next if body is not None else "/"
    code, entry = login_links(request).mint(key.workspace_id, next_path)
    url = login_url(str(request.base_url), code, next_path)
    return serialize.one({"url": url, "expiresAt": format_timestamp(entry.expires_at)})


@router.post("/login", summary="Trade a login code, once, for a new API key; needs no key")
async def login(request: Request, response: Response, body: LoginIn, svc: Svc) -> dict[str, Any]:
    entry = login_links(request).redeem(body.code)
    if entry is None:
        raise Unauthorized(
            "this login code is unknown, expired or already used; ask for a new link "
            "(POST /api/auth/login-links, or restart `whetstone serve`) or sign in with an API key"
        )
    _, secret = await svc.store.keys.create_key(entry.workspace_id, BROWSER_KEY_NAME)
    response.headers["Cache-Control"] = "no-store"
    return serialize.one({"apiKey": secret, "workspaceId": entry.workspace_id})
