"""What the CLI says when a command fails: one line saying what went wrong, then hints.

Errors from the server arrive as the classes of :mod:`whetstone.errors` (rebuilt by the SDK);
mistakes found by the CLI itself (a bad file, say) are :class:`CliError`. Every one of them
ends the command with exit code 1 and no traceback.
"""

from __future__ import annotations

from typing import Any

from whetstone.errors import (
    InvalidRequest,
    InvalidTransition,
    NotFound,
    Unauthorized,
    WhetstoneError,
)
from whetstone.sdk import JobFailedError, WhetstoneConnectionError


class CliError(Exception):
    """A mistake the CLI found before (or instead of) asking the server."""

    code = "cli_error"

    def __init__(self, message: str, *hints: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hints = hints
        self.details = dict(details or {})


def explain(
    exc: WhetstoneError | CliError, url: str, key_source: str | None
) -> tuple[str, list[str]]:
    """The message and the hints for ``exc``, for a session against ``url``."""
    if isinstance(exc, CliError):
        return exc.message, list(exc.hints)
    if isinstance(exc, WhetstoneConnectionError):
        return _unreachable(exc, url)
    if isinstance(exc, Unauthorized):
        return _unauthorized(exc, url, key_source)
    if isinstance(exc, NotFound):
        return exc.message, [
            "Ids belong to one workspace, the one of the API key in use. See what exists with "
            "`whetstone prompts list`, `whetstone datasets list` or `whetstone optimize list`."
        ]
    if isinstance(exc, InvalidRequest):
        fields = [f"{name}: {why}" for name, why in exc.details.items()][5:]
        return exc.message, fields
    if isinstance(exc, InvalidTransition | JobFailedError):
        return exc.message, []
    return f"{exc.message} ({exc.code})", []


def _unreachable(exc: WhetstoneConnectionError, url: str) -> tuple[str, list[str]]:
    hints = [
        "Start a server with `whetstone serve` (or try everything at once with "
        "`whetstone demo`), or point the CLI at yours with --url or WHETSTONE_URL."
    ]
    if "gave up" in exc.message:
        hints.insert(0, exc.message)
    return f"cannot reach the Whetstone server at {url}.", hints


def _unauthorized(exc: Unauthorized, url: str, key_source: str | None) -> tuple[str, list[str]]:
    if key_source is None:
        return f"the server at {url} needs an API key, and none was given.", [
            "Pass --api-key or set WHETSTONE_API_KEY; `whetstone keys create --data-dir DIR` "
            "makes one on the server's machine.",
            "A server started with `whetstone serve` on this machine leaves a key in its data "
            "dir (cli.key) that the CLI finds by itself; if the server runs with --data-dir "
            "DIR, set WHETSTONE_DATA_DIR=DIR for the CLI too.",
        ]
    return f"the server at {url} refused the API key from {key_source}.", [
        exc.message,
        "Keys belong to one data dir: make one with `whetstone keys create --data-dir DIR` "
        "for the server's data dir.",
    ]
