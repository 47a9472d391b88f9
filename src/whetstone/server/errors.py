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


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ErrorBody",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ERROR_WHEN = {
    400: "invalid_request: validation failed; `details` names the fields",
    401: "unauthorized: no API key or a wrong one",
    404: "not_found: unknown id, or another workspace's",
    409: "invalid_transition: the job's status does not allow this",
    413: "payload_too_large: the body is over WHETSTONE_MAX_REQUEST_BYTES",
    429: "rate_limited: too many requests; see Retry-After",
    500: "internal: a bug; the server log has the details",
}


def error_response_doc(status: int) -> dict[str, Any]:
    """An OpenAPI response with the PROTOCOL.md error body, for a route's ``responses=``."""
    return {
        "description": _ERROR_WHEN[status],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }


def _document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the error statuses every /api operation can answer with, with the error body,
    instead of FastAPI's 422 (never sent: a validation error is a 400). Routes declare the
    ones only they can send (409) themselves."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["ErrorBody"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if not path.startswith("/api/"):
                continue
            statuses = [413, 429, 500]
            if path != "/api/health":
                statuses.append(401)
            if operation.get("parameters") or "requestBody" in operation:
                statuses.append(400)
            if "{" in path:
                statuses.append(404)
            for status in statuses:
                responses.setdefault(str(status), error_response_doc(status))
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

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
