"""Every error Whetstone raises, in one tree.

::

    WhetstoneError                  code            HTTP
    ├── InvalidRequest              invalid_request 400
    ├── Unauthorized                unauthorized    401
    ├── NotFound                    not_found       404
    ├── InvalidTransition           invalid_transition 409
    ├── PayloadTooLarge             payload_too_large 413
    ├── RateLimited                 rate_limited    429
    ├── InternalError               internal        500
    ├── ProviderError               provider_error  502   (a job's model provider failed)
    └── LeaseLost                   lease_lost      500   (runner: another worker owns the job)

Each class has a stable ``code`` and HTTP ``status``. The server maps an
instance to the error body of PROTOCOL.md with :data:`ERRORS_BY_CODE`; the
SDK maps the body back to the same class with :func:`error_from_body`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WhetstoneError(Exception):
    """Root of every Whetstone error."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidRequest(WhetstoneError):
    """The request is malformed or a value is out of range; ``details`` names the fields."""

    code = "invalid_request"
    status = 400


class Unauthorized(WhetstoneError):
    code = "unauthorized"
    status = 401


class NotFound(WhetstoneError):
    """Unknown id, or an id of another workspace (never 403, so ids don't leak)."""

    code = "not_found"
    status = 404


class InvalidTransition(WhetstoneError):
    """The job's state does not allow the action (pause a queued job, results of a running one)."""

    code = "invalid_transition"
    status = 409


class PayloadTooLarge(WhetstoneError):
    code = "payload_too_large"
    status = 413


class RateLimited(WhetstoneError):
    code = "rate_limited"
    status = 429


class InternalError(WhetstoneError):
    code = "internal"
    status = 500


class ProviderError(WhetstoneError):
    """A model provider cannot be used or answered badly (no key, auth, malformed reply)."""

    code = "provider_error"
    status = 502


class LeaseLost(WhetstoneError):
    """A runner tried to write for a job whose lease it no longer holds."""

    code = "lease_lost"
    status = 500


class ClientError(WhetstoneError):
    """Raised on the client side only (the SDK and CLI), never sent by the server.

    Its subclasses (``whetstone.sdk.errors``) have codes of their own that are
    not in :data:`ERRORS_BY_CODE`: no server error body ever carries them.
    """

    code = "client_error"
    status = 500


ERRORS_BY_CODE: dict[str, type[WhetstoneError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        NotFound,
        InvalidTransition,
        PayloadTooLarge,
        RateLimited,
        InternalError,
        ProviderError,
        LeaseLost,
    )
}


def error_from_body(body: dict[str, Any]) -> WhetstoneError:
    """Rebuild the error the server raised from its JSON error body."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return InternalError(f"unexpected error body: {body!r}")
    cls = ERRORS_BY_CODE.get(str(err.get("code")), WhetstoneError)
    details = err.get("details")
    return cls(str(err.get("message", "")), details=details if isinstance(details, dict) else None)
