"""Request-size limit as a pure ASGI middleware: checked on Content-Length and while streaming."""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whetstone.errors import PayloadTooLarge


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is over {max_bytes} bytes; send items in smaller batches "
        "(POST /api/datasets/{id}/items) or raise WHETSTONE_MAX_REQUEST_BYTES",
        details={"maxBytes": max_bytes},
    )


class _TooLargeWhileReading(HTTPException):
    """Raised from inside body parsing: FastAPI lets HTTPExceptions through to the error table."""

    def __init__(self, max_bytes: int) -> None:
        self.error = too_large(max_bytes)
        super().__init__(413, detail=self.error.message)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLargeWhileReading(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, send: Send) -> None:
        error = too_large(self.max_bytes)
        body = orjson.dumps(error.to_body())
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
