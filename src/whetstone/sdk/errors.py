"""The SDK's own additions to the error tree of :mod:`whetstone.errors`.

::

    WhetstoneError                       (whetstone.errors: every class the server raises)
    └── ClientError                      (whetstone.errors: raised on the client side only)
        ├── WhetstoneConnectionError     the server cannot be reached, or the link broke for good
        └── JobFailedError               a job the SDK was following ended with ``job_failed``

Errors from the server come back as the class it raised (``NotFound``,
``InvalidTransition`` …), rebuilt from the error body by
:func:`whetstone.errors.error_from_body`.
"""

from __future__ import annotations

from typing import Any

from whetstone.errors import ClientError, error_from_body


class WhetstoneConnectionError(ClientError):
    """No answer from the server: refused, unreachable, timed out, or reconnection gave up.

    It has no HTTP status of its own; ``status`` is 503 by analogy.
    """

    code = "connection_error"
    status = 503

    def __init__(self, message: str, *, url: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"url": url, **(details or {})})
        self.url = url

    @classmethod
    def unreachable(cls, url: str, reason: object) -> WhetstoneConnectionError:
        return cls(
            f"cannot reach the Whetstone server at {url} ({reason}). "
            "Is it running? Start it with `whetstone serve`, or point the client at it "
            "with base_url= or WHETSTONE_URL.",
            url=url,
        )


class JobFailedError(ClientError):
    """The job ended with ``job_failed``. ``error`` is the job's error as the class its code
    names (``ProviderError``, ``InternalError`` …), also set as ``__cause__``."""

    code = "job_failed"
    status = 500

    def __init__(self, job_id: str, error: dict[str, Any] | None) -> None:
        body = {"error": {"code": "internal", "message": "the job failed", **(error or {})}}
        self.error = error_from_body(body)
        self.job_id = job_id
        super().__init__(
            f"optimization {job_id} failed: {self.error.message}",
            details={"jobId": job_id, "error": body["error"]},
        )
        self.__cause__ = self.error
