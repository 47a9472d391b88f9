"""The REST transport: httpx, the success envelope, and errors mapped back to their classes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from whetstone import __version__
from whetstone.errors import (
    ERRORS_BY_CODE,
    InternalError,
    WhetstoneError,
    error_from_body,
)
from whetstone.sdk.errors import WhetstoneConnectionError

DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = f"whetstone-python/{__version__}"

# A 4xx without a Whetstone error body (a proxy in between, say) still maps by status.
_BY_STATUS: dict[int, type[WhetstoneError]] = {
    cls.status: cls for cls in ERRORS_BY_CODE.values() if 400 <= cls.status < 500
}


def seg(value: str) -> str:
    """An id as one path segment (a ``/`` in it cannot reach another route)."""
    return quote(str(value), safe="")


def resolve_url(base_url: str | None) -> str:
    return (base_url or os.environ.get("WHETSTONE_URL") or DEFAULT_URL).rstrip("/")


def resolve_key(api_key: str | None) -> str | None:
    return api_key or os.environ.get("WHETSTONE_API_KEY") or None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A success body: ``data`` and ``meta``."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)


def error_from_response(response: httpx.Response) -> WhetstoneError:
    """The error the server raised, rebuilt from its body; by status if it sent none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return error_from_body(body)
    cls = _BY_STATUS.get(response.status_code, InternalError)
    snippet = response.text[:200].strip()
    return cls(
        f"HTTP {response.status_code} from {response.request.url} without a Whetstone error "
        f"body{': ' + snippet if snippet else ''}",
        details={"status": response.status_code},
    )


class Http:
    """One ``httpx.AsyncClient`` with the key on every request."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = True,
    ) -> None:
        self.base_url = base_url
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers=self.headers,
            timeout=timeout,
            transport=transport,
            trust_env=trust_env,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Envelope:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self.client.request(method, path, json=json, params=query)
        except httpx.TimeoutException as exc:
            raise WhetstoneConnectionError(
                f"no answer from the Whetstone server at {self.base_url} to {method} {path} "
                f"in time ({type(exc).__name__}); raise timeout= if it is busy",
                url=self.base_url,
            ) from exc
        except httpx.TransportError as exc:
            raise WhetstoneConnectionError.unreachable(self.base_url, exc) from exc
        if response.is_error:
            raise error_from_response(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise InternalError(f"{method} {path}: the answer is not JSON") from exc
        if not isinstance(body, dict) or "data" not in body:
            raise InternalError(f"{method} {path}: the answer has no 'data' envelope")
        return Envelope(body["data"], dict(body.get("meta") or {}))

    async def get(self, path: str, **params: Any) -> Envelope:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any = None) -> Envelope:
        return await self.request("POST", path, json=body)

    async def aclose(self) -> None:
        await self.client.aclose()
