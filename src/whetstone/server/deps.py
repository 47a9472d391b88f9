"""Request dependencies: the app's services and the caller's API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from whetstone.domain.job import ApiKey
from whetstone.errors import Unauthorized
from whetstone.server.ratelimit import authenticate
from whetstone.server.services import Services

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_header = APIKeyHeader(name="x-api-key", auto_error=False)

HOW_TO_AUTH = (
    "send 'Authorization: Bearer <key>' or 'x-api-key: <key>'; "
    "create a key with `whetstone keys create`"
)


def get_services(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


async def get_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> ApiKey:
    secret = bearer.credentials if bearer is not None else header_key
    # Counted against the key's rate limit, or the address's without one (ratelimit.py).
    key = await authenticate(request.scope, secret, get_services(request).store.keys.authenticate)
    if not secret:
        raise Unauthorized(f"missing API key: {HOW_TO_AUTH}")
    if key is None:
        raise Unauthorized(f"invalid API key: {HOW_TO_AUTH}")
    return key


Svc = Annotated[Services, Depends(get_services)]
Key = Annotated[ApiKey, Depends(get_key)]
