"""One table from errors to the PROTOCOL.md error body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from whetstone.errors import (
    InternalError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    WhetstoneError,
)

log = logging.getLogger(__name__)

_STATUS_ERRORS: dict[int, type[WhetstoneError]] = {
    401: Unauthorized,
    404: NotFound,
    413: PayloadTooLarge,
}


def error_response(exc: WhetstoneError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_error(errors: list[Any]) -> InvalidRequest:
    details: dict[str, str] = {}
    for err in errors:
        kind = err.get("type")
        loc = tuple(err.get("loc", ()))
        if loc == ("body",) and isinstance(err.get("input"), bytes | str):
            return InvalidRequest(
                "the request body must be a JSON object sent with 'Content-Type: application/json'",
                details={"body": "not JSON"},
            )
        if kind == "json_invalid":
            reason = err.get("ctx", {}).get("error", "parse error")
            return InvalidRequest(
                f"the request body is not valid JSON ({reason})",
                details={"body": "invalid JSON"},
            )
        if kind == "extra_forbidden":
            details[_field(loc)] = "unknown field; remove it or check its spelling"
        elif kind == "missing":
            details[_field(loc)] = "required"
        else:
            details[_field(loc)] = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    summary = "; ".join(f"{k}: {v}" for k, v in list(details.items())[:5])
    return InvalidRequest(f"invalid request: {summary}", details=details)


def install(app: FastAPI) -> None:
    @app.exception_handler(WhetstoneError)
    async def _whetstone(request: Request, exc: WhetstoneError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return error_response(exc, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(list(exc.errors())))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        error = getattr(exc, "error", None)
        if isinstance(error, WhetstoneError):
            return error_response(error)
        cls = _STATUS_ERRORS.get(exc.status_code, InvalidRequest)
        message = str(exc.detail) if exc.detail else "request failed"
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        body = cls(message).to_body()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(InternalError("internal error; the server log has the details"))
